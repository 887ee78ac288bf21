import type { Producer } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import { connectDatabase } from '../../src/persistence/database.ts';
import { createTenantRepository } from '../../src/persistence/tenant-repository.ts';
import { registerCleanup } from './cleanup.ts';
import { ServiceProcess } from './service-process.ts';
import {
  createTestDatabase,
  createTestTopics,
  type TestTopics,
  testKafka,
  testSql,
} from './test-environment.ts';
import { recordTopic } from './topic-recorder.ts';
import type { WireUpdateRequest } from './update-request-builder.ts';

/**
 * Everything an end-to-end test of the pipeline needs, isolated per test: its own database
 * (migrated, with tenants configured), its own topics, recorders on the output topics, a
 * producer for requests, and the service as a child process.
 */
export async function startPipelineFixture(
  options: {
    partitions?: number;
    tenants?: Record<string, string[]>;
    env?: Record<string, string>;
  } = {},
) {
  const databaseUrl = await createTestDatabase();
  const sql = testSql(databaseUrl);
  const tenants = options.tenants ?? {
    'tenant-a': ['collections', 'servicing'],
    'tenant-b': ['collections'],
  };
  const connection = connectDatabase(databaseUrl, { poolMax: 1 });
  const repository = createTenantRepository(connection.db);
  for (const [tenantId, taskTypes] of Object.entries(tenants))
    await repository.save({ tenantId, taskTypes });
  await connection.close();

  const topics: TestTopics = await createTestTopics(options.partitions ?? 3);
  const producer: Producer = testKafka().producer({
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  registerCleanup(() => producer.disconnect());

  const updated = await recordTopic(topics.customerUpdated);
  const deadLetters = await recordTopic(topics.deadLetter);
  const newService = (env: Record<string, string> = {}, groupId?: string) =>
    new ServiceProcess({
      databaseUrl,
      topics,
      env: { ...options.env, ...env },
      ...(groupId ? { groupId } : {}),
    });

  return {
    databaseUrl,
    sql,
    topics,
    updated,
    deadLetters,
    newService,
    /** publishes wire values keyed <tenantId>:<externalId>, in order */
    async publish(requests: WireUpdateRequest[]) {
      for (let start = 0; start < requests.length; start += 500) {
        await producer.send({
          topic: topics.updateRequested,
          messages: requests.slice(start, start + 500).map((request) => ({
            key: `${String(request.tenantId)}:${String(request.externalId)}`,
            value: JSON.stringify(request),
          })),
        });
      }
    },
    /** publishes raw bytes, for poison */
    async publishRaw(
      messages: Array<{
        key: string | null;
        value: Buffer | string | null;
        headers?: Record<string, string | Buffer>;
      }>,
    ) {
      await producer.send({ topic: topics.updateRequested, messages });
    },
    async processedCount() {
      const [row] = await sql<
        { count: number }[]
      >`select count(*)::int as count from processed_events`;
      return row?.count ?? 0;
    },
    async customer(tenantId: string, externalId: string) {
      const [row] =
        await sql`select * from customers where tenant_id = ${tenantId} and external_id = ${externalId}`;
      return row;
    },
  };
}
