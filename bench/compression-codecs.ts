/**
 * `node bench/compression-codecs.ts`: bytes on the wire and CPU per customer.updated event for
 * each Kafka codec, in batches as the relay sends them (1,000 rows over 6 partitions: 167 per
 * partition batch), encoded by kafkajs' own record batch encoder with our codecs. The fastest of
 * 7 rounds is reported: the machine is shared. README "Compression" holds the figures. kafkajs
 * runs mended, as in the service.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { CompressionTypes as CompressionType } from 'kafkajs';
import type { CodecName } from '../src/messaging/kafka/kafka-codecs.ts';
import { installDependencyMendsOrExit } from '../src/start-up/dependency-mends.ts';
import { seededRandom } from '../test/support/workload.ts';

// kafkajs as the service runs it: mended (src/messaging/kafka/kafkajs-encoding-mend.ts).
installDependencyMendsOrExit('compression-codecs');
const { CompressionTypes } = await import('kafkajs');
const { registerKafkaCodecs } = await import('../src/messaging/kafka/kafka-client.ts');
const { KAFKA_CODECS } = await import('../src/messaging/kafka/kafka-codecs.ts');
registerKafkaCodecs();
const require = createRequire(import.meta.url);
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');
const Record = require('kafkajs/src/protocol/recordBatch/record/v0');

const RECORDS_PER_BATCH = 167;
const BATCHES = 120;
const ROUNDS = 7;
/** the first 61 bytes of a v2 record batch are its header; the records follow */
const BATCH_HEADER_BYTES = 61;

const random = seededRandom(7);
const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
const FIRST = [
  'Maria',
  'John',
  'Aisha',
  'Wei',
  'Carlos',
  'Olga',
  'Liam',
  'Fatima',
  'Noah',
  'Sofia',
];
const LAST = ['García-López', 'Smith', 'Nguyen', 'Okafor', 'Kowalski', 'Brown', 'Haddad', 'Rossi'];
const CITIES = ['San Francisco', 'Austin', 'Chicago', 'Miami', 'Denver', 'Seattle', 'Boston'];
const digits = (count: number) => String(Math.floor(random() * 10 ** count)).padStart(count, '0');

/** a customer.updated record as the relay sends it: key, the event's JSON, three headers */
function announcement(index: number) {
  const tenantId = `tenant-${1 + (index % 20)}`;
  const externalId = `c-${digits(5)}`;
  const firstName = pick(FIRST);
  const at = new Date(Date.UTC(2026, 0, 5, 9) + index * 137).toISOString();
  const eventId = randomUUID();
  const event = {
    eventId,
    type: 'customer.updated',
    version: 1,
    occurredAt: at,
    tenantId,
    externalId,
    causationId: randomUUID(),
    reason: 'update',
    changedFields: ['phone', 'city'],
    customer: {
      externalId,
      taskType: 'collections',
      firstName,
      lastName: pick(LAST),
      email: `${firstName.toLowerCase()}.${index}@example.com`,
      birthday: `19${50 + Math.floor(random() * 49)}-0${1 + Math.floor(random() * 9)}-1${Math.floor(random() * 9)}`,
      ssnLast4: digits(4),
      timezone: 'America/Chicago',
      phone: `+1415555${digits(4)}`,
      address1: `${Math.floor(random() * 999)} Main St`,
      address2: null,
      city: pick(CITIES),
      state: 'TX',
      zip: digits(5),
      doNotCall: random() < 0.1,
      isTest: false,
      metadata: { employer: 'Initech', paySchedule: 'biweekly' },
      version: 1 + Math.floor(random() * 20),
      createdAt: '2026-01-05T09:00:00.000Z',
      updatedAt: at,
    },
  };
  return {
    key: `${tenantId}:${externalId}`,
    value: JSON.stringify(event),
    headers: {
      'event.id': eventId,
      'event.type': 'customer.updated',
      'content-type': 'application/json',
    },
  };
}

const events = Array.from({ length: RECORDS_PER_BATCH * BATCHES }, (_, index) =>
  announcement(index),
);
const codecs: Array<['none' | CodecName, CompressionType]> = [
  ['lz4', CompressionTypes.LZ4],
  ['zstd', CompressionTypes.ZSTD],
  ['gzip', CompressionTypes.GZIP],
  ['snappy', CompressionTypes.Snappy],
  ['none', CompressionTypes.None],
];
const cpuMicros = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return used.user + used.system;
};

console.log(`${events.length} events, ${RECORDS_PER_BATCH} per batch, fastest of ${ROUNDS} rounds`);
for (const [name, compression] of codecs) {
  let bytes = 0;
  let encode = Number.POSITIVE_INFINITY;
  let decode = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS; round++) {
    const encoded: Buffer[] = [];
    const started = process.cpuUsage();
    for (let batch = 0; batch < BATCHES; batch++) {
      const records = events
        .slice(batch * RECORDS_PER_BATCH, (batch + 1) * RECORDS_PER_BATCH)
        .map((event, offsetDelta) => Record({ offsetDelta, timestampDelta: 0, ...event }));
      const now = Date.now();
      const { buffer } = await RecordBatch({
        compression,
        firstOffset: 0,
        firstTimestamp: now,
        maxTimestamp: now,
        lastOffsetDelta: RECORDS_PER_BATCH - 1,
        records,
      });
      encoded.push(buffer);
    }
    encode = Math.min(encode, cpuMicros(started) / events.length);
    bytes = encoded.reduce((sum, buffer) => sum + buffer.length, 0);
    if (name !== 'none') {
      const decodeStarted = process.cpuUsage();
      for (const buffer of encoded)
        await KAFKA_CODECS[name].decompress(buffer.subarray(BATCH_HEADER_BYTES));
      decode = Math.min(decode, cpuMicros(decodeStarted) / events.length);
    }
  }
  console.log(
    `${name.padEnd(7)} ${(bytes / events.length).toFixed(0).padStart(5)} bytes/event` +
      `  encode ${encode.toFixed(1).padStart(5)} µs/event` +
      `  decompress ${name === 'none' ? '    -' : decode.toFixed(1).padStart(5)} µs/event`,
  );
}
