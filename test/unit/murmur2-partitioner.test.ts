import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { Murmur2Partitioner, murmur2 } from '../../src/messaging/kafka/murmur2-partitioner.ts';

const metadata = (count: number, leaderless: number[] = []): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));

describe('the murmur2 partitioner', () => {
  it('puts every keyed message on the partition kafkajs DefaultPartitioner (and Java) picks', () => {
    const ours = Murmur2Partitioner();
    const theirs = Partitioners.DefaultPartitioner();
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.uint8Array({ maxLength: 80 })),
        fc.integer({ min: 1, max: 64 }),
        (key, partitions) => {
          const message = { key: typeof key === 'string' ? key : Buffer.from(key), value: 'v' };
          const args = { topic: 't', partitionMetadata: metadata(partitions), message };
          assert.equal(ours(args), theirs(args));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('agrees with the Java client on known keys', () => {
    // Values from org.apache.kafka.common.utils.Utils.murmur2 (kafka UtilsTest).
    assert.equal(murmur2(Buffer.from('21')), -973932308);
    assert.equal(murmur2(Buffer.from('foobar')), -790332482);
    assert.equal(murmur2(Buffer.from('a-little-bit-long-string')), -985981536);
    assert.equal(murmur2(Buffer.from('a-little-bit-longer-string')), -1486304829);
    assert.equal(
      murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8')),
      -58897971,
    );
    assert.equal(murmur2(Buffer.from([97, 98, 99])), 479470107);
  });

  it('honours an explicit partition', () => {
    const partition = Murmur2Partitioner()({
      topic: 't',
      partitionMetadata: metadata(6),
      message: { key: 'k', value: 'v', partition: 4 },
    });
    assert.equal(partition, 4);
  });

  it('spreads messages without a key over the partitions that have a leader', () => {
    const partitioner = Murmur2Partitioner();
    const seen = new Set<number>();
    for (let index = 0; index < 60; index++) {
      seen.add(
        partitioner({
          topic: 't',
          partitionMetadata: metadata(4, [1]),
          message: { key: null, value: 'v' },
        }),
      );
    }
    assert.deepEqual([...seen].sort(), [0, 2, 3]);
  });
});
