import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Sql } from 'postgres';
import { createOutboxStore } from '../../src/persistence/outbox-store.ts';
import { createTestDatabase, testSql } from '../support/test-environment.ts';

/** `rows` outbox rows with ids in order; the first one `oldestSecondsAgo` old. */
async function fillOutbox(sql: Sql, rows: number, oldestSecondsAgo: number) {
  await sql`
    insert into outbox (event_id, tenant_id, external_id, payload, created_at)
    select gen_random_uuid(), 'tenant-a', 'c-' || n, '{}'::json,
           case when n = 1 then now() - make_interval(secs => ${oldestSecondsAgo}) else now() end
    from generate_series(1, ${rows}) n
    order by n`;
}

describe('the outbox backlog (customer_sync_outbox_backlog_events, republish throttling)', () => {
  it('counts exactly below the cap, and the age of the oldest row', async () => {
    const sql = testSql(await createTestDatabase());
    const outbox = createOutboxStore(sql);
    assert.deepEqual(await outbox.backlog(), { count: 0, oldestAgeSeconds: 0 });
    await fillOutbox(sql, 30, 300);
    await sql`delete from outbox where external_id in ('c-5', 'c-6')`;
    const { count, oldestAgeSeconds } = await outbox.backlog();
    assert.equal(count, 28);
    assert.ok(oldestAgeSeconds >= 299 && oldestAgeSeconds < 360, String(oldestAgeSeconds));
  });

  it('beyond the cap counts the span of the ids: bounded work, an upper bound', async () => {
    const sql = testSql(await createTestDatabase());
    const outbox = createOutboxStore(sql, { backlogCountCap: 10 });
    await fillOutbox(sql, 30, 0);
    assert.equal((await outbox.backlog()).count, 30);
    // Holes (another shard's relay got further): still the span, never fewer than the cap.
    await sql`delete from outbox where external_id in ('c-5', 'c-6', 'c-7')`;
    assert.equal((await outbox.backlog()).count, 30);
    await sql`delete from outbox where external_id not in ('c-1', 'c-30')`;
    assert.equal((await outbox.backlog()).count, 2, 'below the cap again: exact');
  });
});
