import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres, { type Sql } from 'postgres';
import { DATABASE_TIMEOUT_DEFAULTS } from '../config/config.ts';
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

/**
 * How long the server lets one session's work wait or run (SPEC §4.5: nothing waits for ever;
 * README "Limits"). Every pool of the service and its tools sets all three when it connects.
 */
export interface DatabaseTimeouts {
  /** lock_timeout: the longest a statement waits for a lock (a customer's, a row's) */
  lockTimeoutMs: number;
  /** statement_timeout: the longest one statement runs, its lock wait included */
  statementTimeoutMs: number;
  /**
   * idle_in_transaction_session_timeout: the server ends a session left idle inside a
   * transaction this long and rolls it back, so a client that stopped talking mid-transaction
   * cannot hold its locks for ever.
   */
  idleInTransactionSessionTimeoutMs: number;
}

/**
 * The service's transactions only ever wait on the database, so one idle this long belongs to
 * a client that stopped talking mid-transaction. Below the consumer's attempt deadline
 * (update-consumer.ts), so a wedged attempt's retry finds its locks free.
 */
export const IDLE_IN_TRANSACTION_SESSION_TIMEOUT_MS = 20_000;

/** The run-time parameters that set `timeouts` on a session as it connects. */
export function sessionTimeoutParameters(
  timeouts: Partial<DatabaseTimeouts> = {},
): Record<string, number> {
  return {
    lock_timeout: timeouts.lockTimeoutMs ?? DATABASE_TIMEOUT_DEFAULTS.lockTimeoutMs,
    statement_timeout: timeouts.statementTimeoutMs ?? DATABASE_TIMEOUT_DEFAULTS.statementTimeoutMs,
    idle_in_transaction_session_timeout:
      timeouts.idleInTransactionSessionTimeoutMs ?? IDLE_IN_TRANSACTION_SESSION_TIMEOUT_MS,
  };
}

export interface ConnectDatabaseOptions {
  poolMax?: number;
  applicationName?: string;
  /** the configured DATABASE_*_TIMEOUT_MS; a pool whose transactions wait on something else
   * than the database (Kafka, in `dlq redrive` and `replay --dry-run`) raises the idle one */
  timeouts?: Partial<DatabaseTimeouts>;
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
      ...sessionTimeoutParameters(options.timeouts),
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
