/**
 * SPEC §4.5, the database cannot wedge the service, against a real Postgres: every session has
 * a lock, statement and idle-in-transaction limit; what they end is a transient failure the
 * caller retries; an abandoned attempt cancels its own statement at once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql as drizzleSql } from 'drizzle-orm';
import { TransactionRollbackError } from 'drizzle-orm/errors';
import { applyUpdateBatch } from '../../src/application/apply-update-batch.ts';
import { parseCustomerUpdateRequested } from '../../src/contracts/customer-update-requested.ts';
import { canRetry, databaseConflictOf } from '../../src/errors.ts';
import { lockCustomers } from '../../src/persistence/customer-lock.ts';
import {
  connectDatabase,
  type DatabaseTimeouts,
  type DatabaseTransaction,
} from '../../src/persistence/database.ts';
import { createTenantRepository } from '../../src/persistence/tenant-repository.ts';
import { createUpdateBatchStore } from '../../src/persistence/update-batch-store.ts';
import { registerCleanup } from '../support/cleanup.ts';
import { createTestDatabase, testSql, uniqueName } from '../support/test-environment.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';
import { waitFor } from '../support/wait-for.ts';

function pool(url: string, timeouts: Partial<DatabaseTimeouts>) {
  const applicationName = uniqueName('timeouts_test');
  const database = connectDatabase(url, { poolMax: 2, applicationName, timeouts });
  registerCleanup(() => database.close());
  return { ...database, applicationName };
}

function update(externalId: string) {
  const result = parseCustomerUpdateRequested(
    anUpdateRequest().withExternalId(externalId).withData({ lastName: 'Lee' }).build(),
  );
  assert.ok(result.ok);
  return result.request;
}

/**
 * Runs `work` in a transaction on a connection of its own and keeps the transaction open (what
 * it locked or wrote stays locked, unseen by others) until the returned function is called,
 * which rolls it back.
 */
async function holdTransaction(url: string, work: (tx: DatabaseTransaction) => Promise<unknown>) {
  const holder = pool(url, {});
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let held: () => void = () => {};
  const isHeld = new Promise<void>((resolve) => {
    held = resolve;
  });
  const transaction = holder.db
    .transaction(async (tx) => {
      await work(tx);
      held();
      await released;
      tx.rollback();
    })
    .catch((error: unknown) => {
      if (!(error instanceof TransactionRollbackError)) throw error;
    });
  await isHeld;
  return async () => {
    release();
    await transaction;
  };
}

/** Holds the customer's lock, as a slow writer of that customer would, until released. */
function holdCustomerLock(url: string, externalId: string) {
  return holdTransaction(url, (tx) => lockCustomers(tx, [{ tenantId: 'tenant-a', externalId }]));
}

async function sessionsOf(sql: ReturnType<typeof testSql>, applicationName: string) {
  return sql<{ state: string | null; wait_event_type: string | null }[]>`
    select state, wait_event_type from pg_stat_activity where application_name = ${applicationName}`;
}

/**
 * Starts an attempt, waits until its session waits for a lock (`waitingFor`), abandons it, and
 * checks that it failed and that its session went back to the pool idle, out of any transaction.
 */
async function abandonWhileItWaits(
  sql: ReturnType<typeof testSql>,
  applicationName: string,
  waitingFor: string,
  start: (signal: AbortSignal) => Promise<unknown>,
) {
  const abandon = new AbortController();
  const attempt = start(abandon.signal);
  await waitFor(`the attempt to wait for ${waitingFor}`, async () =>
    (await sessionsOf(sql, applicationName)).some(
      (session) => session.state === 'active' && session.wait_event_type === 'Lock',
    ),
  );
  abandon.abort(new Error('abandoned by the test'));
  const failure = await attempt.then(
    () => undefined,
    (error: unknown) => error,
  );
  assert.ok(failure !== undefined, 'the abandoned attempt did not commit');
  const sessions = await waitFor(
    'the attempt’s session to be idle, out of any transaction',
    async () => {
      const seen = await sessionsOf(sql, applicationName);
      return seen.every((session) => session.state === 'idle') && seen;
    },
  );
  assert.ok(sessions.length > 0, 'its connection stays in the pool');
}

describe('database limits (SPEC §4.5)', () => {
  it('cancels an abandoned attempt’s statement at once and leaves no transaction behind', async () => {
    const url = await createTestDatabase();
    const sql = testSql(url);
    // Limits far above the test: only the abandonment can end the wait.
    const service = pool(url, { lockTimeoutMs: 300_000, statementTimeoutMs: 600_000 });
    await createTenantRepository(service.db).save({
      tenantId: 'tenant-a',
      taskTypes: ['collections'],
    });
    const releaseLock = await holdCustomerLock(url, 'c-wedged');
    const store = createUpdateBatchStore(service.db);

    await abandonWhileItWaits(sql, service.applicationName, 'the customer’s lock', (signal) =>
      applyUpdateBatch(store, [update('c-wedged')], { signal }),
    );
    await releaseLock();

    // The pool is usable, and the retry applies the update (once).
    const retried = await applyUpdateBatch(store, [update('c-wedged')]);
    assert.deepEqual(
      retried.outcomes.map((outcome) => outcome.kind),
      ['applied'],
    );
  });

  it('cancels an abandoned attempt waiting in its writes, sent together, and leaves no transaction behind', async () => {
    const url = await createTestDatabase();
    const sql = testSql(url);
    const service = pool(url, { lockTimeoutMs: 300_000, statementTimeoutMs: 600_000 });
    await createTenantRepository(service.db).save({
      tenantId: 'tenant-a',
      taskTypes: ['collections'],
    });
    const request = update('c-writes');
    // Another transaction has recorded the same event and not ended: the attempt's insert of
    // it waits on that row, behind its customer upsert, with its outbox insert sent after it.
    const rollBackOther = await holdTransaction(url, (tx) =>
      tx.execute(drizzleSql`
        insert into processed_events (event_id, tenant_id, external_id, outcome)
        values (${request.eventId}, 'tenant-a', 'c-writes', 'applied')`),
    );
    const store = createUpdateBatchStore(service.db);
    await abandonWhileItWaits(
      sql,
      service.applicationName,
      'the other transaction’s row',
      (signal) => applyUpdateBatch(store, [request], { signal }),
    );
    const [outbox] = await sql<{ count: number }[]>`select count(*)::int as count from outbox`;
    assert.equal(outbox?.count, 0, 'nothing of the abandoned attempt was committed');

    await rollBackOther();
    const retried = await applyUpdateBatch(store, [request]);
    assert.deepEqual(
      retried.outcomes.map((outcome) => outcome.kind),
      ['applied'],
    );
  });

  it('ends a lock wait past the lock timeout as a transient failure', async () => {
    const url = await createTestDatabase();
    const service = pool(url, { lockTimeoutMs: 200, statementTimeoutMs: 60_000 });
    await createTenantRepository(service.db).save({
      tenantId: 'tenant-a',
      taskTypes: ['collections'],
    });
    const releaseLock = await holdCustomerLock(url, 'c-locked');
    try {
      const failure = await applyUpdateBatch(createUpdateBatchStore(service.db), [
        update('c-locked'),
      ]).then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.equal(databaseConflictOf(failure), 'lock_timeout');
      assert.equal(canRetry(failure), true);
    } finally {
      await releaseLock();
    }
  });

  it('ends a statement past the statement timeout as a transient failure', async () => {
    const url = await createTestDatabase();
    const service = pool(url, { lockTimeoutMs: 100, statementTimeoutMs: 300 });
    const failure = await service.db.execute(drizzleSql`select pg_sleep(30)`).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.equal(databaseConflictOf(failure), 'statement_timeout');
    assert.equal(canRetry(failure), true);
  });

  it('ends a transaction its client left idle, and frees what it held', async () => {
    const url = await createTestDatabase();
    const sql = testSql(url);
    const client = pool(url, { idleInTransactionSessionTimeoutMs: 500 });
    let failure: unknown;
    await client.db
      .transaction(async (tx) => {
        await lockCustomers(tx, [{ tenantId: 'tenant-a', externalId: 'c-idle' }]);
        // The client stops talking mid-transaction (it waits on something else).
        await waitFor(
          'the server to end the idle session',
          async () => (await sessionsOf(sql, client.applicationName)).length === 0,
        );
        await tx.execute(drizzleSql`select 1`);
      })
      .catch((error: unknown) => {
        failure = error;
      });
    assert.ok(failure !== undefined, 'the transaction did not commit');
    assert.equal(canRetry(failure), true);
    // Its customer lock is free again: another writer takes it at once.
    const [row] = await sql<{ locked: boolean }[]>`
      select pg_try_advisory_lock(
        hashtextextended(jsonb_build_array('tenant-a', 'c-idle')::text, 0)) as locked`;
    assert.equal(row?.locked, true);
  });
});
