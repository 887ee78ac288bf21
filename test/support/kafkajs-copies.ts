import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  installedKafkajsDirectory,
  MENDED_KAFKAJS_FILES,
  mendKafkajsSource,
} from '../../src/messaging/kafka/kafkajs-encoding-mend.ts';

/** What a Produce request is encoded from: one message of a send, with its partition chosen. */
export interface ProducedMessage {
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers: Record<string, string | Buffer | string[]>;
  /** milliseconds as text, as kafkajs takes it; set, so two encodings do not differ by the clock */
  timestamp: string;
  partition: number;
}

/**
 * Two copies of the installed kafkajs outside node_modules, so that no load hook touches them:
 * one as released, one with src/messaging/kafka/kafkajs-encoding-mend.ts written into its
 * files; each is loaded by its own `require`. `remove()` deletes both.
 */
export function kafkajsCopies(): {
  released: NodeJS.Require;
  mended: NodeJS.Require;
  remove: () => void;
} {
  const root = mkdtempSync(join(tmpdir(), 'customer-sync-kafkajs-'));
  const copy = (name: string, mend: boolean) => {
    const directory = join(root, name, 'kafkajs');
    cpSync(installedKafkajsDirectory(), directory, { recursive: true });
    for (const file of mend ? MENDED_KAFKAJS_FILES : []) {
      const path = join(directory, file);
      writeFileSync(path, mendKafkajsSource(file, readFileSync(path, 'utf8')));
    }
    return createRequire(join(directory, 'index.js'));
  };
  return {
    released: copy('released', false),
    mended: copy('mended', true),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/**
 * The bytes of the Produce request the given kafkajs would send for `messages`, from grouping
 * them by partition on (what `producer.send` does before the socket).
 */
export async function produceRequestBytes(
  kafkajs: NodeJS.Require,
  messages: readonly ProducedMessage[],
  partitions: number,
): Promise<Buffer> {
  const group = kafkajs('./src/producer/groupMessagesPerPartition');
  const createTopicData = kafkajs('./src/producer/createTopicData');
  const produceRequest = kafkajs('./src/protocol/requests/produce/v3/request');
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
  }));
  const messagesPerPartition = group({
    topic: 'customer.updated',
    partitionMetadata,
    messages,
    partitioner: ({ message }: { message: ProducedMessage }) => message.partition,
  });
  const topicData = createTopicData([
    {
      topic: 'customer.updated',
      partitions: Object.keys(messagesPerPartition).map(Number),
      messagesPerPartition,
    },
  ]);
  const request = produceRequest({ acks: -1, timeout: 30_000, topicData });
  return (await request.encode()).buffer;
}
