import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres, { type Sql } from 'postgres';
import { type DatabaseEndpoint, endpointOf, postgresSslOption } from './database-tls.ts';
import * as schema from './schema.ts';

export type Database = PostgresJsDatabase<typeof schema>;
/** The handle drizzle passes to a `db.transaction` callback. */
export type DatabaseTransaction = Parameters<Parameters<Database['transaction']>[0]>[0];

export interface DatabaseConnection {
  db: Database;
  /** the postgres.js client underneath, for LISTEN and reserved connections */
  sql: Sql;
  close(timeoutSeconds?: number): Promise<void>;
}

/** The longest wait between two attempts to reconnect to the database. */
export const MAX_RECONNECT_DELAY_SECONDS = 2;

/**
 * How long postgres.js waits before reconnecting after the pool's `failures`-th failed
 * connection in a row. Its own default is (0.5-1) x min(3^failures / 100, 20) s: failures are
 * counted across the whole pool, so a minute-long outage already has it waiting up to 20 s
 * between attempts, and the service stays stalled that long after the database is back
 * (SPEC §4.5 wants a prompt recovery). Same curve and jitter, capped at 2 s: at most one
 * attempt per connection every 1-2 s, which a recovering server can take.
 */
export function reconnectDelaySeconds(failures: number, random = Math.random): number {
  return (0.5 + random() / 2) * Math.min(3 ** failures / 100, MAX_RECONNECT_DELAY_SECONDS);
}

export interface ConnectDatabaseOptions {
  poolMax?: number;
  applicationName?: string;
  /**
   * The server ends a session left idle inside a transaction this long, and rolls it back:
   * a client that stopped talking mid-transaction cannot hold its locks for ever. Only for
   * pools whose transactions never wait on anything but the database (not `replay`'s dry run).
   */
  idleInTransactionSessionTimeoutMs?: number;
}

/** A pool on `target`: a URL, or a URL with its TLS settings (DATABASE_SSL_MODE, …). */
export function connectDatabase(
  target: string | DatabaseEndpoint,
  options: ConnectDatabaseOptions = {},
): DatabaseConnection {
  const { url, tls } = endpointOf(target);
  const sql = postgres(url, {
    max: options.poolMax ?? 10,
    // Also used by the LISTEN connections postgres.js opens for this pool.
    ssl: postgresSslOption(tls, url),
    // The service logs its own, PII-free account of failures; postgres.js notices are noise.
    onnotice: () => {},
    // Sent as run-time parameters when each connection starts.
    connection: {
      application_name: options.applicationName ?? 'customer-sync',
      ...(options.idleInTransactionSessionTimeoutMs === undefined
        ? {}
        : { idle_in_transaction_session_timeout: options.idleInTransactionSessionTimeoutMs }),
    },
    // Transaction-scoped statements only; no session state survives a pooled connection.
    prepare: true,
    // A capped reconnect delay, for a prompt recovery after an outage (see the function).
    backoff: reconnectDelaySeconds,
  });
  return {
    db: drizzle(sql, { schema }),
    sql,
    close: (timeoutSeconds = 5) => sql.end({ timeout: timeoutSeconds }),
  };
}
