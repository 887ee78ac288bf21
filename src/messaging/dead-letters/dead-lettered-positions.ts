import type { Admin, Kafka } from 'kafkajs';
import { CustomerSyncError } from '../../errors.ts';
import { readTopicRange, wholeTopic } from '../kafka/topic-range.ts';
import type { DeadLetterPublisher } from './dead-letter-publisher.ts';
import { readDeadLetter } from './dead-letter-records.ts';

/** Which input messages the DLQ already holds, by their original topic, partition and offset. */
export interface DeadLetteredPositions {
  has(topic: string, partition: number, offset: string): boolean;
}

function positionKey(topic: string, partition: number, offset: string): string {
  return `${topic}\u0000${partition}\u0000${offset}`;
}

/** Reads the whole DLQ topic once (headers only) and remembers where each letter came from. */
export async function loadDeadLetteredPositions(options: {
  kafka: Kafka;
  admin: Admin;
  deadLetterTopic: string;
  groupId: string;
  signal?: AbortSignal;
}): Promise<DeadLetteredPositions> {
  const keys = new Set<string>();
  const ranges = await wholeTopic(options.admin, options.deadLetterTopic);
  const result = await readTopicRange({
    kafka: options.kafka,
    topic: options.deadLetterTopic,
    groupId: options.groupId,
    ranges,
    partitionsConsumedConcurrently: ranges.length,
    ...(options.signal ? { signal: options.signal } : {}),
    async onBatch({ partition, messages }) {
      for (const message of messages) {
        const { original } = readDeadLetter(options.deadLetterTopic, partition, message);
        if (original) keys.add(positionKey(original.topic, original.partition, original.offset));
      }
      return undefined;
    },
  });
  if (!result.completed) {
    // Stopping: the caller's chunk stays undone, and a rerun dead-letters it then.
    throw new CustomerSyncError('replay.interrupted', 'the replay was interrupted', {
      canRetry: true,
    });
  }
  return { has: (topic, partition, offset) => keys.has(positionKey(topic, partition, offset)) };
}

/**
 * A replay meets the poison the service met, and dead-letters it by the same policy; a letter
 * the DLQ already holds for the same input message is not sent twice, so a replay over a live
 * system emits nothing. The DLQ is read on the first letter only.
 */
export function skipAlreadyDeadLettered(
  publisher: DeadLetterPublisher,
  positions: () => Promise<DeadLetteredPositions>,
): DeadLetterPublisher & { skipped(): number } {
  // Chunks of several partitions may ask at once; they share one read (one group member).
  let known: Promise<DeadLetteredPositions> | undefined;
  let skipped = 0;
  return {
    async publish(letters) {
      if (letters.length === 0) return;
      known ??= positions().catch((error: unknown) => {
        known = undefined;
        throw error;
      });
      const index = await known;
      const fresh = letters.filter(
        (letter) => !index.has(letter.topic, letter.partition, letter.message.offset),
      );
      await publisher.publish(fresh);
      skipped += letters.length - fresh.length;
    },
    skipped: () => skipped,
  };
}
