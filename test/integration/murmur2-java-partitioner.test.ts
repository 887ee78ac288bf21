import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import type { PartitionMetadata } from 'kafkajs';
import { findJava } from '../../dev/java-runtime.ts';
import { DEFAULT_KAFKA_VERSION, ensureKafkaJars } from '../../dev/kafka-jars.ts';
import { runCommand } from '../../dev/run-command.ts';
import { Murmur2Partitioner, murmur2 } from '../../src/messaging/kafka/murmur2-partitioner.ts';
import { registerCleanup } from '../support/cleanup.ts';

const CACHE_DIR = fileURLToPath(new URL('../../.cache/', import.meta.url));

/**
 * The Java client's own answer for each `<hex key> <partitions>` line of a file: its murmur2 and
 * the partition its producer gives a record with that serialized key (Kafka 4's
 * BuiltInPartitioner.partitionForKey, what KafkaProducer calls for a keyed record).
 */
const JAVA_PROGRAM = `
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.utils.Utils;

public class PartitionForKey {
  public static void main(String[] args) throws Exception {
    StringBuilder out = new StringBuilder();
    for (String line : Files.readAllLines(Path.of(args[0]))) {
      String[] parts = line.split(" ", -1);
      byte[] key = HexFormat.of().parseHex(parts[0]);
      int partitions = Integer.parseInt(parts[1]);
      out.append(Utils.murmur2(key)).append(' ')
        .append(BuiltInPartitioner.partitionForKey(key, partitions)).append('\\n');
    }
    System.out.print(out);
  }
}
`;

const metadata = (count: number): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));

describe('the murmur2 partitioner against the Java client', () => {
  let directory: string;
  let java: string;
  let classpath: string;

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'customer-sync-murmur2-'));
    registerCleanup(() => rm(directory, { recursive: true, force: true }));
    java = await findJava({
      service: "Java client's partitioner",
      alternative: 'run it where the local Kafka runs (it needs Java too)',
    });
    ({ classpath } = await ensureKafkaJars({
      version: DEFAULT_KAFKA_VERSION,
      cacheDir: CACHE_DIR,
      log: () => {},
    }));
    await writeFile(join(directory, 'PartitionForKey.java'), JAVA_PROGRAM);
  });

  it('puts every key on the partition the Java producer picks, and hashes it the same', async () => {
    // The relay's keys (`<tenantId>:<externalId>`), other text in UTF-8, and any bytes at all,
    // over partition counts from 1 to 200.
    const keyText = fc.oneof(
      fc
        .tuple(fc.stringMatching(/^[a-z0-9-]{1,20}$/), fc.stringMatching(/^[A-Za-z0-9-]{1,40}$/))
        .map(([tenant, external]) => Buffer.from(`${tenant}:${external}`)),
      fc.string({ unit: 'grapheme', maxLength: 60 }).map((text) => Buffer.from(text)),
      fc.uint8Array({ maxLength: 100 }).map((bytes) => Buffer.from(bytes)),
    );
    const cases = fc.sample(fc.tuple(keyText, fc.integer({ min: 1, max: 200 })), {
      numRuns: 5_000,
      seed: 16,
    });
    const input = join(directory, 'keys.txt');
    await writeFile(
      input,
      cases.map(([key, partitions]) => `${key.toString('hex')} ${partitions}`).join('\n'),
    );

    const { stdout } = await runCommand(
      java,
      ['-cp', classpath, join(directory, 'PartitionForKey.java'), input],
      { timeoutMs: 120_000 },
    );
    const answers = stdout.trim().split('\n');
    assert.equal(answers.length, cases.length, 'one answer from Java per key');

    const partitioner = Murmur2Partitioner();
    const mismatches = cases.flatMap(([key, partitions], index) => {
      const [javaHash, javaPartition] = (answers[index] as string).split(' ').map(Number);
      const ours = partitioner({
        topic: 't',
        partitionMetadata: metadata(partitions),
        message: { key, value: 'v' },
      });
      return murmur2(key) === javaHash && ours === javaPartition
        ? []
        : [
            `key ${key.toString('hex')} over ${partitions}: Java ${javaHash}/${javaPartition}, ours ${murmur2(key)}/${ours}`,
          ];
    });
    assert.deepEqual(mismatches.slice(0, 5), [], `${mismatches.length} keys disagree`);
  });
});
