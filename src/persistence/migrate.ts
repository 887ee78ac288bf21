import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { type Config, DATABASE_TIMEOUT_DEFAULTS } from '../config/config.ts';
import { IDLE_IN_TRANSACTION_SESSION_TIMEOUT_MS } from './database.ts';
import { type DatabaseEndpoint, endpointOf, postgresSslOption } from './database-tls.ts';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));

/** An arbitrary constant: the advisory lock that lets one replica at a time migrate. */
export const MIGRATION_LOCK_ID = 7_301_964_220_118n;

export interface MigrationTimeouts {
  /** lock_timeout of the migrations' statements (DATABASE_LOCK_TIMEOUT_MS) */
  lockTimeoutMs: number;
  /** statement_timeout of the migrations' statements; 0 = none */
  statementTimeoutMs: number;
}

export function migrationTimeoutsOf(config: Config): MigrationTimeouts {
  return {
    lockTimeoutMs: config.database.timeouts.lockTimeoutMs,
    statementTimeoutMs: config.database.migrationStatementTimeoutMs,
  };
}

/**
 * Applies the SQL migrations in drizzle/ through a connection of its own (max 1), as drizzle
 * recommends. Replicas that start together take turns through an advisory lock, so a rolling
 * deploy never runs the same migration twice at once.
 *
 * Limits (SPEC §4.5): replicas wait for each other's turn as long as it takes (a turn is
 * bounded by its statements' timeout); a migration's statement waits for its table's lock at
 * most `lockTimeoutMs`, because an ALTER TABLE queued for its lock makes every later query of
 * the live service wait behind it. A migration that times out is rolled back, and applied at
 * the next `migrate` or start.
 */
export async function applyMigrations(
  target: string | DatabaseEndpoint,
  timeouts: MigrationTimeouts = {
    lockTimeoutMs: DATABASE_TIMEOUT_DEFAULTS.lockTimeoutMs,
    statementTimeoutMs: DATABASE_TIMEOUT_DEFAULTS.migrationStatementTimeoutMs,
  },
): Promise<void> {
  const { url, tls } = endpointOf(target);
  const sql = postgres(url, {
    max: 1,
    onnotice: () => {},
    ssl: postgresSslOption(tls, url),
    // No lock or statement limit yet: waiting for another replica's turn takes what it takes.
    connection: {
      application_name: 'customer-sync-migrate',
      idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_SESSION_TIMEOUT_MS,
    },
  });
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_ID.toString()}::bigint)`;
    try {
      await sql`
        select set_config('lock_timeout', ${String(timeouts.lockTimeoutMs)}, false),
               set_config('statement_timeout', ${String(timeouts.statementTimeoutMs)}, false)`;
      await migrate(drizzle(sql), { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_ID.toString()}::bigint)`;
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}
