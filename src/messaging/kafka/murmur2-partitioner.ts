import type { ICustomPartitioner, PartitionerArgs } from 'kafkajs';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/**
 * Kafka's murmur2 hash of a key (the Java client's `Utils.murmur2`), in 32-bit integer
 * arithmetic. Kept beside kafkajs' own because that one computes the hash with a 64-bit Long
 * object per step, and the outbox relay hashes every customer.updated it sends: per keyed
 * message, kafkajs' DefaultPartitioner took 1.3–2.0 µs and allocated 3.6 KiB, this one 26–42 ns
 * and nothing beyond the call's arguments (`node bench/partitioner-cost.ts`, 2-core machine).
 * test/integration/murmur2-java-partitioner.test.ts checks it against the Java client itself.
 */
export function murmur2(key: Buffer): number {
  const length = key.length;
  let h = (SEED ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k =
      (key[i] as number) |
      ((key[i + 1] as number) << 8) |
      ((key[i + 2] as number) << 16) |
      ((key[i + 3] as number) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The tail: up to three bytes folded in, last byte first, then one more mix.
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) h ^= (key[whole + 2] as number) << 16;
    if (tail >= 2) h ^= (key[whole + 1] as number) << 8;
    h ^= key[whole] as number;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner gives a keyed message (murmur2, positive, mod n). */
export function partitionOfKey(key: Buffer, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

/**
 * The partitioner of kafkajs' `Partitioners.DefaultPartitioner` (the Java client's: a keyed
 * message goes to murmur2(key) mod partitions, so every customer keeps one partition and its
 * order), with the hash computed without allocating. Messages without a key are spread round
 * robin over the partitions that have a leader, as kafkajs does.
 */
export const Murmur2Partitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }: PartitionerArgs) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const numPartitions = partitionMetadata.length;
    if (message.key !== null && message.key !== undefined) {
      const key = Buffer.isBuffer(message.key) ? message.key : Buffer.from(String(message.key));
      return partitionOfKey(key, numPartitions);
    }
    const counter = (counters.get(topic) ?? Math.floor(Math.random() * 0x7fffffff)) + 1;
    counters.set(topic, counter);
    const available = partitionMetadata.filter((partition) => partition.leader >= 0);
    if (available.length > 0)
      return (available[(counter & 0x7fffffff) % available.length] as { partitionId: number })
        .partitionId;
    return (counter & 0x7fffffff) % numPartitions;
  };
};
