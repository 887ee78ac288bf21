/**
 * Self-check of the devstack, `npx node dev/smoke.ts`: finds or starts Kafka and
 * Postgres exactly as `npm test` does, sends one message through Kafka and back, asks Postgres
 * for its version, and stops everything. Exit code 0 means the infrastructure works.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import postgres from 'postgres';
import { startInfrastructure } from './stack.ts';

const ROUND_TRIP_TIMEOUT_MS = 60_000;

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
const log = (line: string) => console.log(`[devstack] ${line}`);

const startedAt = performance.now();
const infrastructure = await startInfrastructure({ log });
console.log(`infrastructure ready in ${seconds(startedAt)}`);
console.log(
  `  Kafka ${infrastructure.kafkaVersion} (${infrastructure.how.kafka}) at ${infrastructure.kafkaBrokers}`,
);
console.log(
  `  PostgreSQL ${infrastructure.postgresVersion} (${infrastructure.how.postgres}) at ${infrastructure.databaseUrl}`,
);

let exitCode = 1;
try {
  const kafkaAt = performance.now();
  await roundTripOneMessage(infrastructure.kafkaBrokers);
  console.log(`Kafka: one message produced and consumed in ${seconds(kafkaAt)}`);
  const postgresAt = performance.now();
  console.log(
    `PostgreSQL: ${await selectVersion(infrastructure.databaseUrl)} (${seconds(postgresAt)})`,
  );
  exitCode = 0;
} catch (error) {
  console.error('smoke check failed:', error);
} finally {
  const stopAt = performance.now();
  await infrastructure.stop();
  console.log(`stopped in ${seconds(stopAt)}; total ${seconds(startedAt)}`);
}
process.exit(exitCode);

async function roundTripOneMessage(brokers: string): Promise<void> {
  const kafka = new Kafka({
    clientId: 'devstack-smoke',
    brokers: brokers.split(','),
    // Retriable start-up states (topic being auto-created, coordinator loading) log as ERROR
    // although kafkajs retries them; a real failure still throws.
    logLevel: logLevel.NOTHING,
  });
  const topic = `devstack-smoke-${randomUUID()}`;
  const sent = `hello ${randomUUID()}`;
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({ groupId: `devstack-smoke-${randomUUID()}` });
  try {
    await producer.connect();
    // The topic does not exist yet: this also proves auto.create.topics.enable.
    await producer.send({ topic, messages: [{ key: 'smoke', value: sent }] });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const received = new Promise<string>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => resolve(message.value?.toString() ?? ''),
      });
    });
    const timeout = sleep(ROUND_TRIP_TIMEOUT_MS, undefined, { ref: false }).then(() => {
      throw new Error(`no message consumed within ${ROUND_TRIP_TIMEOUT_MS / 1000} s`);
    });
    const value = await Promise.race([received, timeout]);
    if (value !== sent) {
      throw new Error(`consumed ${JSON.stringify(value)}, sent ${JSON.stringify(sent)}`);
    }
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
  }
}

async function selectVersion(url: string): Promise<string> {
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    const [row] = await sql<{ version: string }[]>`select version()`;
    return row?.version ?? '(no row)';
  } finally {
    await sql.end({ timeout: 5 });
  }
}
