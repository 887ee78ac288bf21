import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Sql } from 'postgres';
import { createLogger } from '../../src/observability/logger.ts';
import {
  claimPruneRun,
  pruneProcessedEvents,
  startProcessedEventsPruning,
} from '../../src/persistence/processed-events-pruner.ts';
import { createTestDatabase, testSql } from '../support/test-environment.ts';
import { waitFor } from '../support/wait-for.ts';

const HOUR_MS = 3_600_000;

/** `old` ids past a 30-day retention and `recent` ones within it. */
async function insertProcessedEvents(sql: Sql, old: number, recent: number) {
  await sql`
    insert into processed_events (event_id, tenant_id, external_id, outcome, processed_at)
    select gen_random_uuid(), 'tenant-a', 'c-' || n, 'applied',
           case when n <= ${old} then now() - interval '40 days' else now() - interval '1 day' end
    from generate_series(1, ${old + recent}) n`;
}

async function countProcessedEvents(sql: Sql): Promise<number> {
  const [row] = await sql<{ count: number }[]>`select count(*)::int as count from processed_events`;
  return row?.count ?? -1;
}

describe('pruning processed event ids', () => {
  it('deletes only ids older than the retention, in batches', async () => {
    const sql = testSql(await createTestDatabase());
    await insertProcessedEvents(sql, 25, 5);
    assert.equal(await pruneProcessedEvents(sql, 30, 10), 25);
    assert.equal(await countProcessedEvents(sql), 5);
  });

  it('gives each interval’s prune to exactly one of the replicas that ask at once', async () => {
    const url = await createTestDatabase();
    // Separate clients: the claims really run concurrently, on connections of their own.
    const replicas = Array.from({ length: 5 }, () => testSql(url));
    const claims = await Promise.all(replicas.map((sql) => claimPruneRun(sql, HOUR_MS)));
    assert.equal(claims.filter(Boolean).length, 1, `claims: ${claims.join(', ')}`);

    const [sql] = replicas as [Sql];
    assert.equal(await claimPruneRun(sql, HOUR_MS), false, 'not due again within the hour');
    await sql`update maintenance_runs set last_started_at = now() - interval '61 minutes'`;
    assert.equal(await claimPruneRun(sql, HOUR_MS), true, 'due again an hour after the last');
  });

  it('prunes soon after start, whatever the uptime, on one replica of several', async () => {
    const url = await createTestDatabase();
    const sql = testSql(url);
    await insertProcessedEvents(sql, 25, 5);
    const pruned: number[] = [];
    const logger = createLogger({ level: 'silent' });
    // Two replicas just started: neither has been up for an hour.
    const replicas = [testSql(url), testSql(url)].map((replicaSql) =>
      startProcessedEventsPruning({
        sql: replicaSql,
        retentionDays: 30,
        intervalMs: HOUR_MS,
        checkEveryMs: 50,
        firstCheckAfterMs: 0,
        batchSize: 10,
        logger,
        onPruned: (count) => pruned.push(count),
      }),
    );
    try {
      await waitFor('a replica to report a prune', () => pruned.length > 0 && pruned);
      assert.equal(await countProcessedEvents(sql), 5);
      const [run] = await sql<{ last_deleted: number | null; finished: boolean }[]>`
        select last_deleted, last_finished_at is not null as finished
        from maintenance_runs where task = 'prune_processed_events'`;
      assert.deepEqual(run, { last_deleted: 25, finished: true });
      assert.deepEqual(pruned, [25], 'one replica pruned, once');
    } finally {
      await Promise.all(replicas.map((replica) => replica.stop()));
    }
  });
});
