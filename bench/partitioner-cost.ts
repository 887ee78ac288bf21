/**
 * What choosing a partition costs per keyed message: kafkajs' DefaultPartitioner against ours
 * (src/messaging/kafka/murmur2-partitioner.ts), time and bytes allocated, on the relay's key shape.
 * `node bench/partitioner-cost.ts` (hold the heavy lock: it is a benchmark).
 */
import { getHeapStatistics } from 'node:v8';
import { type ICustomPartitioner, Partitioners, type PartitionMetadata } from 'kafkajs';
import { Murmur2Partitioner } from '../src/messaging/kafka/murmur2-partitioner.ts';

const CALLS = 200_000;
/** Node 26 reports it; the typings of @types/node 24 do not know it yet. */
const allocatedBytes = () =>
  (getHeapStatistics() as ReturnType<typeof getHeapStatistics> & { total_allocated_bytes: number })
    .total_allocated_bytes;
const ROUNDS = 7;

const partitionMetadata: PartitionMetadata[] = Array.from({ length: 12 }, (_, partitionId) => ({
  partitionId,
  leader: 0,
  partitionErrorCode: 0,
  replicas: [0],
  isr: [0],
}));
const keys = Array.from({ length: 1024 }, (_, index) =>
  Buffer.from(`tenant-${index % 7}:CUST-${100_000 + index}`),
);

function measure(name: string, createPartitioner: ICustomPartitioner) {
  const partition = createPartitioner();
  const call = (index: number) =>
    partition({
      topic: 't',
      partitionMetadata,
      message: { key: keys[index & 1023] as Buffer, value: 'v' },
    });
  for (let index = 0; index < CALLS; index++) call(index);
  const nanoseconds: number[] = [];
  let bytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const allocatedBefore = allocatedBytes();
    const startedAt = process.hrtime.bigint();
    for (let index = 0; index < CALLS; index++) call(index);
    nanoseconds.push(Number(process.hrtime.bigint() - startedAt) / CALLS);
    bytes = (allocatedBytes() - allocatedBefore) / CALLS;
  }
  nanoseconds.sort((a, b) => a - b);
  const median = nanoseconds[Math.floor(ROUNDS / 2)] as number;
  console.log(`${name.padEnd(30)} ${median.toFixed(0).padStart(6)} ns  ${bytes.toFixed(0)} B`);
}

console.log(`per keyed message, 12 partitions, median of ${ROUNDS} rounds of ${CALLS}`);
measure('kafkajs DefaultPartitioner', Partitioners.DefaultPartitioner);
measure('Murmur2Partitioner', Murmur2Partitioner);
