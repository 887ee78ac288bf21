/**
 * What kafkajs spends to turn a relay send into Produce request bytes, as released and as
 * src/messaging/kafka/kafkajs-encoding-mend.ts mends it, side by side on the same messages:
 * time and bytes allocated per message, and a check that both give the same bytes.
 * `node bench/produce-encoding-cost.ts` (hold the heavy lock: it is a benchmark).
 */
import assert from 'node:assert/strict';
import { getHeapStatistics } from 'node:v8';
import {
  kafkajsCopies,
  type ProducedMessage,
  produceRequestBytes,
} from '../test/support/kafkajs-copies.ts';

const SEND = 1_000; // the relay's OUTBOX_BATCH_SIZE: one send per outbox batch
const PARTITIONS = 6;
const SENDS = 20;
const ROUNDS = 7;
/** Node 26 reports it; the typings of @types/node 24 do not know it yet. */
const allocatedBytes = () =>
  (getHeapStatistics() as ReturnType<typeof getHeapStatistics> & { total_allocated_bytes: number })
    .total_allocated_bytes;

// The relay's message shape: a tenant-scoped key, the customer document, three headers.
const document = Buffer.from(
  JSON.stringify({
    eventId: '5b0c0c52-0d6f-5d38-9a4e-4a1f3b7c2d10',
    type: 'customer.updated',
    tenantId: 'tenant-3',
    customer: { externalId: 'CUST-100042', firstName: 'Ada', notes: 'x'.repeat(600) },
  }),
);
const messages: ProducedMessage[] = Array.from({ length: SEND }, (_, index) => ({
  key: Buffer.from(`tenant-${index % 7}:CUST-${100_000 + index}`),
  value: document,
  headers: {
    'event.id': `5b0c0c52-0d6f-5d38-9a4e-${String(index).padStart(12, '0')}`,
    'event.type': 'customer.updated',
    'content-type': 'application/json',
  },
  timestamp: String(1_764_000_000_000 + index),
  partition: (index * 7) % PARTITIONS,
}));

const { released, mended, remove } = kafkajsCopies();
try {
  assert.deepEqual(
    await produceRequestBytes(mended, messages, PARTITIONS),
    await produceRequestBytes(released, messages, PARTITIONS),
  );
  console.log(
    `per message, sends of ${SEND} to ${PARTITIONS} partitions, median of ${ROUNDS} rounds of ${SENDS} sends (same bytes: yes)`,
  );
  for (const [name, kafkajs] of [
    ['kafkajs 2.2.4 as released', released],
    ['kafkajs 2.2.4 mended', mended],
  ] as const) {
    for (let send = 0; send < SENDS * 2; send++)
      await produceRequestBytes(kafkajs, messages, PARTITIONS);
    const rounds: Array<{ microseconds: number; bytes: number }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const allocatedBefore = allocatedBytes();
      const startedAt = process.hrtime.bigint();
      for (let send = 0; send < SENDS; send++)
        await produceRequestBytes(kafkajs, messages, PARTITIONS);
      const perMessage = SENDS * SEND;
      rounds.push({
        microseconds: Number(process.hrtime.bigint() - startedAt) / 1_000 / perMessage,
        bytes: (allocatedBytes() - allocatedBefore) / perMessage,
      });
    }
    rounds.sort((a, b) => a.microseconds - b.microseconds);
    const median = rounds[Math.floor(ROUNDS / 2)] as (typeof rounds)[number];
    console.log(
      `${name.padEnd(28)} ${median.microseconds.toFixed(2).padStart(6)} µs  ${median.bytes.toFixed(0).padStart(6)} B`,
    );
  }
} finally {
  remove();
}
