import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pruneProcessedEvents } from '../../src/persistence/processed-events-pruner.ts';
import { createTestDatabase, testSql } from '../support/test-environment.ts';

describe('pruning processed event ids', () => {
  it('deletes only ids older than the retention, in batches', async () => {
    const sql = testSql(await createTestDatabase());
    await sql`
      insert into processed_events (event_id, tenant_id, external_id, outcome, processed_at)
      select gen_random_uuid(), 'tenant-a', 'c-' || n, 'applied',
             case when n <= 25 then now() - interval '40 days' else now() - interval '1 day' end
      from generate_series(1, 30) n`;
    assert.equal(await pruneProcessedEvents(sql, 30, 10), 25);
    const [row] = await sql<
      { count: number }[]
    >`select count(*)::int as count from processed_events`;
    assert.equal(row?.count, 5);
  });
});
