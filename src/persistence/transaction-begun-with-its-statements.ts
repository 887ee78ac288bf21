import { drizzle } from 'drizzle-orm/postgres-js';
import { SERVICE_FAILURE_CODES } from '../contracts/error-codes.ts';
import { CustomerSyncError } from '../errors.ts';
import type { Database, DatabaseTransaction } from './database.ts';
import { clientOf, type SqlExecutor } from './prepared-sql.ts';

/**
 * Runs `work` in a transaction whose BEGIN goes to the server with the work's first statements,
 * not one round trip ahead of them: postgres.js' `begin` (and so drizzle's `transaction`) waits
 * for BEGIN's answer before it runs the callback. At light load a chunk's transaction is a few
 * round trips in series on the critical path (docs/performance.md "Latency"); this is one fewer.
 *
 * What holds as with `begin`: the statements run on one reserved connection in the order they
 * were sent, so those sent after BEGIN run inside the transaction; it commits when `work`
 * resolves and rolls back when it throws. Should BEGIN itself fail on a connection that stays
 * up, the statements sent with it (the locks and reads) ran outside any transaction, which
 * reads nothing wrong; `execute` refuses every later statement, so no write runs without its
 * transaction (BEGIN's answer arrives before theirs, so its failure is known by then). A COMMIT
 * the server answers with ROLLBACK (a failed statement whose failure nobody awaited) is an
 * error, not a success.
 */
export async function inTransactionBegunWithItsStatements<T>(
  db: Database,
  execute: SqlExecutor,
  work: (transaction: DatabaseTransaction, execute: SqlExecutor) => Promise<T>,
): Promise<T> {
  const pool = clientOf(db);
  const connection = await pool.reserve();
  let beginFailure: { error: unknown } | undefined;
  const inTransaction: SqlExecutor = (handle, query) =>
    beginFailure === undefined ? execute(handle, query) : Promise.reject(beginFailure.error);
  try {
    let result: T;
    try {
      // drizzle reads the client's options, which a reserved connection shares with its pool
      // but does not carry.
      const handle = drizzle(
        Object.assign(connection, { options: pool.options }),
      ) as unknown as DatabaseTransaction;
      const began = connection
        .unsafe('begin')
        .execute()
        .then(
          () => undefined,
          (error: unknown) => {
            beginFailure = { error };
          },
        );
      result = await work(handle, inTransaction);
      await began;
      if (beginFailure !== undefined) throw beginFailure.error;
    } catch (error) {
      // Whatever failed, nothing goes back to the pool inside an open transaction. A ROLLBACK
      // outside one (BEGIN never ran) is only a warning.
      await connection
        .unsafe('rollback')
        .execute()
        .catch(() => {});
      throw error;
    }
    const committed = await connection.unsafe('commit').execute();
    if (committed.command !== 'COMMIT')
      throw new CustomerSyncError(
        SERVICE_FAILURE_CODES.applyTransactionRolledBack,
        `the server answered COMMIT with ${committed.command}: a statement of the transaction failed`,
        { canRetry: true },
      );
    return result;
  } finally {
    connection.release();
  }
}
