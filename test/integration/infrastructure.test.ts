import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import { customers } from '../../src/persistence/schema.ts';
import {
  createTestDatabase,
  createTestTopics,
  testKafka,
  testSql,
} from '../support/test-environment.ts';
import { recordTopic } from '../support/topic-recorder.ts';

describe('the real infrastructure under the tests', () => {
  it('produces to and consumes from the Kafka broker', async () => {
    const topics = await createTestTopics(1);
    const producer = testKafka().producer();
    await producer.connect();
    await producer.send({
      topic: topics.updateRequested,
      messages: [{ key: 'k', value: 'hello broker' }],
    });
    await producer.disconnect();

    const recorder = await recordTopic(topics.updateRequested);
    const [message] = await recorder.waitForCount(1);
    assert.equal(message?.key, 'k');
    assert.equal(message?.value?.toString(), 'hello broker');
  });

  it('applies the migrations and round-trips a customer row through drizzle', async () => {
    const sql = testSql(await createTestDatabase());
    const db = drizzle(sql);
    await db.insert(customers).values({
      tenantId: 'tenant-a',
      externalId: 'c-1',
      taskType: 'collections',
      phone: '+15551234567',
      birthday: '1985-06-15',
      doNotCall: true,
      metadata: { employer: 'Acme' },
    });
    const [row] = await db.select().from(customers).where(eq(customers.externalId, 'c-1'));
    assert.equal(row?.tenantId, 'tenant-a');
    assert.equal(row?.phone, '+15551234567');
    assert.equal(row?.birthday, '1985-06-15');
    assert.equal(row?.doNotCall, true);
    assert.deepEqual(row?.metadata, { employer: 'Acme' });
    assert.equal(row?.version, 0);

    const tables = await sql<{ table_name: string }[]>`
      select table_name from information_schema.tables where table_schema = 'public' order by table_name`;
    const names = tables.map((table) => table.table_name);
    for (const core of ['customers', 'loans', 'outbox', 'processed_events', 'tenants']) {
      assert.ok(names.includes(core), `${core} is migrated`);
    }
  });
});
