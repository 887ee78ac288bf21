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
  return clientOf(handle).unsafe<Row[]>(text, params as ParameterOrJSON<never>[], {
    prepare: true,
  });
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
 * `execute`, with each statement tied to `signal`: aborting it cancels the statement in flight
 * (postgres.js' query.cancel() sends the server a cancel request on a connection of its own,
 * so it works with the pool exhausted, and the statement fails with 57014) and refuses the next
 * one, so an abandoned transaction stops waiting, rolls back and frees its connection and locks
 * at once (SPEC §4.5). A statement that settled before the abort is not touched.
 */
export function cancelledBy(signal: AbortSignal | undefined, execute: SqlExecutor): SqlExecutor {
  if (signal === undefined) return execute;
  return async <Row extends Record<string, unknown>>(
    handle: Database | DatabaseTransaction,
    query: SQL,
  ) => {
    signal.throwIfAborted();
    const pending = execute<Row>(handle, query) as Promise<Row[]> & { cancel?: () => unknown };
    const cancel = () => void pending.cancel?.();
    signal.addEventListener('abort', cancel, { once: true });
    try {
      return await pending;
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  };
}

/** drizzle's postgres-js session keeps its postgres.js client (in a transaction, the transaction's). */
function clientOf(handle: Database | DatabaseTransaction): Sql {
  const client = (handle._.session as unknown as { client?: Sql }).client;
  if (client === undefined) throw new Error('not a drizzle postgres-js database or transaction');
  return client;
}
