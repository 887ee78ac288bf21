import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { ParameterOrJSON, Sql } from 'postgres';
import type { Database, DatabaseTransaction } from './database.ts';

const dialect = new PgDialect();

/**
 * Runs drizzle-built SQL as a prepared statement of postgres.js. drizzle's `execute` sends raw
 * SQL with `prepare: false`, so postgres.js first asks the server to describe each statement
 * before it can bind its parameters (one more round trip every time) and Postgres parses and
 * plans it afresh. The batch path's statements are few and their text is fixed (rows travel as
 * one JSON parameter): prepared once per connection, each goes in a single round trip
 * (docs/performance.md).
 */
export function executePrepared<Row extends Record<string, unknown>>(
  handle: Database | DatabaseTransaction,
  query: SQL,
): Promise<Row[]> {
  const { sql: text, params } = dialect.sqlToQuery(query);
  // Sent now, not when first awaited: statements asked for one after the other without waiting
  // reach the transaction's connection in that order, so they can travel together and still
  // run in turn (apply-update-batch.ts asks for its locks and its reads at once).
  return clientOf(handle)
    .unsafe<Row[]>(text, params as ParameterOrJSON<never>[], { prepare: true })
    .execute();
}

/**
 * How the batch statements are run: `executePrepared`, or `executeUnprepared`, which is how
 * drizzle runs raw SQL by default (the benchmark's naive consumer runs with drizzle's defaults).
 */
export type SqlExecutor = <Row extends Record<string, unknown>>(
  handle: Database | DatabaseTransaction,
  query: SQL,
) => Promise<Row[]>;

export const executeUnprepared: SqlExecutor = async <Row extends Record<string, unknown>>(
  handle: Database | DatabaseTransaction,
  query: SQL,
) => [...(await handle.execute(query))] as Row[];

/**
 * `execute` for the statements of one transaction, tied to `signal`: aborting it cancels the
 * statement the server is running (postgres.js' query.cancel() sends the server a cancel
 * request on a connection of its own, so it works with the pool exhausted, and the statement
 * fails with 57014) and refuses the next one, so an abandoned transaction stops waiting, rolls
 * back and frees its connection and locks at once (SPEC §4.5).
 *
 * A transaction's statements may be in flight together (sent in turn, run in turn): the one
 * running is the oldest unsettled. Once one fails the transaction is aborted and the others
 * fail on their own. A cancel request the server receives between two statements (while it
 * waits for the next) is ignored, so when the oldest then succeeds, the next is cancelled in
 * its turn. Only ever the oldest: postgres.js (3.4.9) never sends a statement cancelled while
 * still queued behind another in its transaction, nor anything after it, so the rollback would
 * wait for the idle-in-transaction timeout.
 */
export function cancelledBy(signal: AbortSignal | undefined, execute: SqlExecutor): SqlExecutor {
  if (signal === undefined) return execute;
  const unsettled: Array<{ cancel?: () => unknown }> = [];
  let failedSinceAbort = false;
  const cancelRunning = () => void unsettled[0]?.cancel?.();
  return async <Row extends Record<string, unknown>>(
    handle: Database | DatabaseTransaction,
    query: SQL,
  ) => {
    signal.throwIfAborted();
    const pending = execute<Row>(handle, query) as Promise<Row[]> & { cancel?: () => unknown };
    unsettled.push(pending);
    if (unsettled.length === 1) signal.addEventListener('abort', cancelRunning, { once: true });
    let failed = false;
    try {
      return await pending;
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      unsettled.splice(unsettled.indexOf(pending), 1);
      if (signal.aborted && failed) failedSinceAbort = true;
      if (unsettled.length === 0) signal.removeEventListener('abort', cancelRunning);
      else if (signal.aborted && !failedSinceAbort) cancelRunning(); // the cancel missed it
    }
  };
}

/** drizzle's postgres-js session keeps its postgres.js client (in a transaction, the transaction's). */
export function clientOf(handle: Database | DatabaseTransaction): Sql {
  const client = (handle._.session as unknown as { client?: Sql }).client;
  if (client === undefined) throw new Error('not a drizzle postgres-js database or transaction');
  return client;
}
