import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { describeFailure } from '../../src/errors.ts';
import { connectDatabase } from '../../src/persistence/database.ts';
import { executePrepared } from '../../src/persistence/prepared-sql.ts';
import { inTransactionBegunWithItsStatements } from '../../src/persistence/transaction-begun-with-its-statements.ts';
import { registerCleanup } from '../support/cleanup.ts';
import { startTcpProxy, urlTarget } from '../support/tcp-proxy.ts';
import { createTestDatabase, testSql } from '../support/test-environment.ts';
import { waitFor } from '../support/wait-for.ts';

/** True outside a transaction: inside one, now() is when it began, not when this statement did. */
const outsideTransaction = sql`select now() = statement_timestamp() as outside`;

async function oneConnectionPool(url: string) {
  const database = connectDatabase(url, { poolMax: 1 });
  registerCleanup(() => database.close());
  return database;
}

async function isOutsideTransaction(database: Awaited<ReturnType<typeof oneConnectionPool>>) {
  const [row] = await executePrepared<{ outside: boolean }>(database.db, outsideTransaction);
  return row?.outside;
}

describe('a transaction begun with its statements (transaction-begun-with-its-statements.ts)', () => {
  it('sends the first statement before BEGIN has been answered, and runs it inside the transaction', async () => {
    const url = await createTestDatabase();
    const proxy = await startTcpProxy(urlTarget(url));
    const database = await oneConnectionPool(proxy.proxiedUrl(url));
    assert.equal(await isOutsideTransaction(database), true); // connected before replies are held

    proxy.holdReplies();
    const transaction = inTransactionBegunWithItsStatements(
      database.db,
      executePrepared,
      async (tx, execute) => {
        const [first] = await execute<{ xid: string }>(
          tx,
          sql`select txid_current()::text as xid, 'first statement' as marker`,
        );
        const [second] = await execute<{ xid: string }>(
          tx,
          sql`select txid_current()::text as xid`,
        );
        return [first?.xid, second?.xid];
      },
    );
    // Nothing has come back from the server, yet the statement is on its way.
    await waitFor('the first statement sent while BEGIN waits for its answer', () =>
      proxy.sentText().includes('first statement'),
    );
    proxy.releaseReplies();
    const [first, second] = await transaction;
    assert.ok(first !== undefined && first === second, 'both statements in one transaction');
    assert.equal(await isOutsideTransaction(database), true, 'committed, not left open');
  });

  it('holds a lock taken with BEGIN until it commits', async () => {
    const url = await createTestDatabase();
    const database = await oneConnectionPool(url);
    const observer = testSql(url);
    let release: () => void = () => {};
    const holding = new Promise<void>((resolve) => {
      release = resolve;
    });
    const transaction = inTransactionBegunWithItsStatements(
      database.db,
      executePrepared,
      async (tx, execute) => {
        await execute(tx, sql`select pg_advisory_xact_lock(4242)`);
        await holding;
      },
    );
    const lockHeld = async () =>
      (
        await observer`select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = 4242 and granted`
      )[0]?.n === 1;
    await waitFor('the advisory lock held', lockHeld);
    release();
    await transaction;
    assert.equal(await lockHeld(), false, 'released at commit');
  });

  it('rolls back what the work wrote when it throws, and gives the connection back outside any transaction', async () => {
    const url = await createTestDatabase();
    const database = await oneConnectionPool(url);
    const observer = testSql(url);
    await observer`create table written_then_failed (n int)`;
    await assert.rejects(
      inTransactionBegunWithItsStatements(database.db, executePrepared, async (tx, execute) => {
        await execute(tx, sql`insert into written_then_failed values (1)`);
        throw new Error('the work failed');
      }),
      /the work failed/,
    );
    await assert.rejects(
      inTransactionBegunWithItsStatements(database.db, executePrepared, async () => {
        throw new Error('failed before any statement');
      }),
      /failed before any statement/,
    );
    assert.equal((await observer`select count(*)::int as n from written_then_failed`)[0]?.n, 0);
    assert.equal(await isOutsideTransaction(database), true);
  });

  it('fails when the server answers COMMIT with ROLLBACK (a statement failed and nobody awaited it)', async () => {
    const url = await createTestDatabase();
    const database = await oneConnectionPool(url);
    const failure = await inTransactionBegunWithItsStatements(
      database.db,
      executePrepared,
      async (tx, execute) => {
        await execute(tx, sql`select 1 / 0`).catch(() => {});
        return 'looked fine';
      },
    ).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.equal(describeFailure(failure).code, 'apply.transaction_rolled_back');
    assert.equal(await isOutsideTransaction(database), true);
  });
});
