import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { type DatabaseEndpoint, endpointOf, postgresSslOption } from './database-tls.ts';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));

/** An arbitrary constant: the advisory lock that lets one replica at a time migrate. */
export const MIGRATION_LOCK_ID = 7_301_964_220_118n;

/**
 * Applies the SQL migrations in drizzle/ through a connection of its own (max 1), as drizzle
 * recommends. Replicas that start together take turns through an advisory lock, so a rolling
 * deploy never runs the same migration twice at once.
 */
export async function applyMigrations(target: string | DatabaseEndpoint): Promise<void> {
  const { url, tls } = endpointOf(target);
  const sql = postgres(url, { max: 1, onnotice: () => {}, ssl: postgresSslOption(tls, url) });
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_ID.toString()}::bigint)`;
    try {
      await migrate(drizzle(sql), { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_ID.toString()}::bigint)`;
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}
