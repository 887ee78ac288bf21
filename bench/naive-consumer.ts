import type { Kafka } from 'kafkajs';
import { applyUpdateBatch } from '../src/application/apply-update-batch.ts';
import type { ValidationFailure } from '../src/contracts/error-codes.ts';
import { createJsonUpdateRequestDecoder } from '../src/messaging/consumer/decode-update-request.ts';
import { connectDatabase } from '../src/persistence/database.ts';
import { executePrepared, executeUnprepared } from '../src/persistence/prepared-sql.ts';
import { createUpdateBatchStore } from '../src/persistence/update-batch-store.ts';

export interface NaiveResult {
  events: number;
  seconds: number;
  eventsPerSecond: number;
}

/**
 * The consumer most teams write first: kafkajs `eachMessage`, one partition at a time, each
 * message decoded and applied in a transaction of its own with the very same semantics as the
 * service (dedupe, last-writer-wins merge, outbox row; the same domain code and SQL), poison
 * sent to a dead-letter topic one by one, offsets committed by kafkajs' defaults.
 * It does not relay its outbox to Kafka, so it is measured doing strictly less than the service.
 * It stops after `maxEvents` messages or `maxSeconds`, whichever comes first.
 *
 * Its statements run as drizzle runs raw SQL by default, unprepared, as a first version would;
 * preparing them is one of the service's optimisations. `prepared` measures it with them too:
 * per-message transactions are bound by round trips, so it then runs about twice as fast.
 */
export async function measureNaiveConsumer(options: {
  kafka: Kafka;
  topic: string;
  deadLetterTopic: string;
  databaseUrl: string;
  maxEvents: number;
  maxSeconds: number;
  prepared?: boolean;
}): Promise<NaiveResult> {
  const database = connectDatabase(options.databaseUrl, {
    poolMax: 2,
    applicationName: 'bench-naive',
  });
  const store = createUpdateBatchStore(database.db, {
    execute: options.prepared ? executePrepared : executeUnprepared,
    drizzleTransactions: true,
  });
  const decoder = createJsonUpdateRequestDecoder({ maxMessageBytes: 64 * 1024 });
  const producer = options.kafka.producer();
  const consumer = options.kafka.consumer({ groupId: `bench-naive-${Date.now()}` });
  await producer.connect();

  let processed = 0;
  let joinedAt = 0;
  let lastAt = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joinedAt = performance.now();
    setTimeout(finish, options.maxSeconds * 1000).unref();
  });

  const deadLetter = async (key: Buffer | null, value: Buffer | null, failure: ValidationFailure) =>
    producer.send({
      topic: options.deadLetterTopic,
      messages: [{ key, value, headers: { 'error.code': failure.code } }],
    });

  try {
    await consumer.connect();
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (processed >= options.maxEvents) return;
        const decoded = await decoder.decode(message);
        if (!decoded.ok) {
          await deadLetter(message.key, message.value, decoded.failure);
        } else {
          const [outcome] = (await applyUpdateBatch(store, [decoded.request])).outcomes;
          if (outcome?.kind === 'rejected')
            await deadLetter(message.key, message.value, outcome.failure);
        }
        processed += 1;
        lastAt = performance.now();
        if (processed >= options.maxEvents) finish();
      },
    });
    await finished;
    const events = processed;
    const seconds = Math.max(lastAt - joinedAt, 1) / 1000;
    return { events, seconds, eventsPerSecond: events / seconds };
  } finally {
    await consumer.disconnect().catch(() => {});
    await producer.disconnect().catch(() => {});
    await database.close();
  }
}
