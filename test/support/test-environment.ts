import { randomBytes } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import postgres from 'postgres';
import { createDatabase, databaseUrl, dropDatabase } from '../../dev/databases.ts';
import { registerKafkaCodecs } from '../../src/messaging/kafka/kafka-client.ts';
import { createTopicsAndAwaitLeaders } from '../../src/messaging/kafka/topics.ts';
import { applyMigrations } from '../../src/persistence/migrate.ts';
import { registerCleanup } from './cleanup.ts';

/** The infrastructure test/run.ts started (or the environment named) for this run. */
export function testInfrastructure(): { kafkaBrokers: string; adminDatabaseUrl: string } {
  const kafkaBrokers = process.env.TEST_KAFKA_BROKERS;
  const adminDatabaseUrl = process.env.TEST_DATABASE_URL;
  if (!kafkaBrokers || !adminDatabaseUrl) {
    throw new Error(
      'integration tests need TEST_KAFKA_BROKERS and TEST_DATABASE_URL: run them with `npm test`',
    );
  }
  return { kafkaBrokers, adminDatabaseUrl };
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** A migrated database of the test file's own, dropped when the file's tests end. */
export async function createTestDatabase(): Promise<string> {
  const { adminDatabaseUrl } = testInfrastructure();
  const name = uniqueName('cs_test');
  await createDatabase(adminDatabaseUrl, name);
  registerCleanup(() => dropDatabase(adminDatabaseUrl, name));
  const url = databaseUrl(adminDatabaseUrl, name);
  await applyMigrations(url);
  return url;
}

/** A postgres.js client for assertions, closed when the file's tests end. */
export function testSql(url: string) {
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  registerCleanup(() => sql.end({ timeout: 5 }));
  return sql;
}

export function testKafka(clientId = 'customer-sync-test'): Kafka {
  const { kafkaBrokers } = testInfrastructure();
  // what the service writes (KAFKA_COMPRESSION) and what tests produce is read by every codec
  registerKafkaCodecs();
  return new Kafka({ clientId, brokers: kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
}

export interface TestTopics {
  updateRequested: string;
  customerUpdated: string;
  deadLetter: string;
}

/** The three topics under names of this test's own, created with `partitions` partitions. */
export async function createTestTopics(partitions = 3): Promise<TestTopics> {
  const base = uniqueName('t');
  const topics: TestTopics = {
    updateRequested: `${base}.customer.update.requested`,
    customerUpdated: `${base}.customer.updated`,
    deadLetter: `${base}.customer.update.requested.dlq`,
  };
  const admin: Admin = testKafka().admin();
  await admin.connect();
  try {
    await createTopicsAndAwaitLeaders(
      admin,
      Object.values(topics).map((topic) => ({
        topic,
        numPartitions: partitions,
        replicationFactor: 1,
      })),
    );
  } finally {
    await admin.disconnect();
  }
  return topics;
}

/** How many messages a topic holds (the sum of its partitions' end offsets). */
export async function messagesOnTopic(topic: string): Promise<number> {
  const admin: Admin = testKafka().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
  } finally {
    await admin.disconnect();
  }
}
