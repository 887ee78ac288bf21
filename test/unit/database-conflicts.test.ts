import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canRetry, databaseConflictOf } from '../../src/errors.ts';
import { countRetry, createMetrics } from '../../src/observability/metrics.ts';

/** A failure as drizzle raises it: its own error, the server's SQLSTATE on the cause. */
function failedQuery(sqlState: string): Error {
  return new Error('Failed query: select …', {
    cause: Object.assign(new Error('x'), { code: sqlState }),
  });
}

describe('database conflicts are transient and counted (SPEC §4.5)', () => {
  const conflicts = {
    '40P01': 'deadlock',
    '55P03': 'lock_timeout',
    '57014': 'statement_timeout',
    '40001': 'serialization_failure',
    '25P03': 'idle_in_transaction_timeout',
  } as const;

  for (const [sqlState, kind] of Object.entries(conflicts)) {
    it(`retries ${sqlState} (${kind}) and names it`, () => {
      assert.equal(canRetry(failedQuery(sqlState)), true);
      assert.equal(databaseConflictOf(failedQuery(sqlState)), kind);
    });
  }

  it('names no conflict for the data being wrong, which stays final', () => {
    assert.equal(databaseConflictOf(failedQuery('23505')), undefined);
    assert.equal(canRetry(failedQuery('22P02')), false);
  });

  it('counts the retry by stage, and the conflict by kind and stage', async () => {
    const metrics = createMetrics();
    countRetry(metrics, 'apply', failedQuery('40P01'));
    countRetry(metrics, 'apply', new Error('the broker went away'));
    const text = await metrics.registry.metrics();
    assert.match(text, /customer_sync_retries_total\{stage="apply"\} 2/);
    assert.match(text, /customer_sync_database_conflicts_total\{kind="deadlock",stage="apply"\} 1/);
  });
});
