import postgres from 'postgres';
import { DevstackError } from './devstack-error.ts';

// Interpolated into DDL, which cannot take bind parameters: only names that need no escaping.
const DATABASE_NAME = /^[a-z0-9_]{1,63}$/;

/**
 * Creates an empty database `name` on the server of `adminUrl` (a superuser or CREATEDB URL)
 * and returns the URL of the new database, so each test file can work in isolation.
 */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  assertDatabaseName(name);
  await withAdminConnection(adminUrl, false, (sql) => sql.unsafe(`create database "${name}"`));
  return databaseUrl(adminUrl, name);
}

/** Drops database `name` if it exists, disconnecting whoever is still connected to it. */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  assertDatabaseName(name);
  await withAdminConnection(adminUrl, false, (sql) =>
    sql.unsafe(`drop database if exists "${name}" with (force)`),
  );
}

/** `adminUrl` with its database replaced by `name`. */
export function databaseUrl(adminUrl: string, name: string): string {
  assertDatabaseName(name);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The server's `server_version`, e.g. `15.14 (Debian 15.14-0+deb12u1)`; `tls` for a server that insists on it. */
export async function readServerVersion(url: string, tls = false): Promise<string> {
  return withAdminConnection(url, tls, async (sql) => {
    const [row] = await sql<
      { version: string }[]
    >`select current_setting('server_version') as version`;
    if (row === undefined) throw new Error('server_version returned no row');
    return row.version;
  });
}

function assertDatabaseName(name: string): void {
  if (!DATABASE_NAME.test(name)) {
    throw new DevstackError(
      'INVALID_DATABASE_NAME',
      `Database name ${JSON.stringify(name)} must be 1-63 characters of a-z, 0-9 and _`,
    );
  }
}

async function withAdminConnection<T>(
  url: string,
  tls: boolean,
  work: (sql: postgres.Sql) => Promise<T>,
) {
  const sql = postgres(url, {
    max: 1,
    connect_timeout: 5,
    onnotice: () => undefined,
    // Readiness only: who answers is checked by the tests that use the server.
    ssl: tls ? { rejectUnauthorized: false } : false,
  });
  try {
    return await work(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
