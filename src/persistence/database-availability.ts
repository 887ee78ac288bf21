import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres, { type Sql } from 'postgres';
import {
  type ConnectFailure,
  classifySocketFailure,
  type Dependency,
} from '../application/wait-for-dependency.ts';
import { type DatabaseEndpoint, endpointOf, postgresSslOption } from './database-tls.ts';
import { MIGRATION_LOCK_ID, MIGRATIONS_FOLDER } from './migrate.ts';

/** Where the database is, for log lines and errors: host:port only, never the credentials. */
export function databaseDependency(url: string): Dependency {
  return { name: 'PostgreSQL', address: databaseAddress(url), variable: 'DATABASE_URL' };
}

function databaseAddress(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}`;
  } catch {
    // postgres.js also takes host lists (`postgres://u:p@a:5432,b:5432/db`), which URL refuses.
    return /@([^/?]+)/.exec(url)?.[1] ?? '(unparsable DATABASE_URL)';
  }
}

const AUTHENTICATION_REFUSED = new Set(['28P01', '28000', 'SASL_SIGNATURE_MISMATCH']);
/** SQLSTATEs of a server that is there but cannot take us yet. */
const NOT_YET = [
  '08', // connection exceptions
  '53300', // too_many_connections
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up, shutting down, in recovery
];
const CLIENT_CONNECTION_CODES = new Set([
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);

/** Reads a postgres.js connection failure as start-up sees it (see wait-for-dependency.ts). */
export function classifyDatabaseFailure(error: unknown): ConnectFailure | undefined {
  if (isSchemaFailure(error)) return error.failure;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return undefined;
  if (AUTHENTICATION_REFUSED.has(code))
    return {
      kind: 'misconfigured',
      reason: `the server refused the credentials (${code})`,
      variable: 'DATABASE_URL',
      fix: 'check the user name and password in DATABASE_URL',
    };
  if (code === '3D000')
    return {
      kind: 'misconfigured',
      reason: 'the database does not exist (3D000)',
      variable: 'DATABASE_URL',
      fix: 'check the database name in DATABASE_URL (create it, or name an existing one)',
    };
  if (CLIENT_CONNECTION_CODES.has(code) || NOT_YET.some((prefix) => code.startsWith(prefix)))
    return { kind: 'unreachable', reason: `the server is not accepting connections (${code})` };
  return classifySocketFailure(code, 'DATABASE_SSL_MODE and DATABASE_SSL_CA');
}

export interface DatabaseProbeResult {
  /** the database has migrations this version does not know: a newer version migrated it */
  schemaNewerThanCode: boolean;
}

/**
 * One attempt to reach the database: connects with the service's URL and, unless asked not to,
 * checks that the schema is migrated far enough for this version. A schema behind the code is
 * waited for while another process holds the migration lock (it is migrating right now), and is
 * otherwise a configuration error: nobody is going to migrate it.
 */
export async function probeDatabase(
  target: string | DatabaseEndpoint,
  options: { checkSchema: boolean; connectTimeoutSeconds?: number },
): Promise<DatabaseProbeResult> {
  const { url, tls } = endpointOf(target);
  const sql = postgres(url, {
    // The service's own TLS settings: a probe that connected differently would prove nothing.
    ssl: postgresSslOption(tls, url),
    max: 1,
    connect_timeout: options.connectTimeoutSeconds ?? 10,
    onnotice: () => {},
    connection: { application_name: 'customer-sync-start-up' },
    // One attempt: the wait loop decides when to try again.
    backoff: () => 0,
    idle_timeout: 1,
  });
  try {
    await sql`select 1`;
    if (!options.checkSchema) return { schemaNewerThanCode: false };
    return await checkSchemaVersion(sql);
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

interface Migration {
  tag: string;
  when: number;
}

/** drizzle-kit's journal: the migrations this version ships, oldest first. */
function shippedMigrations(): Migration[] {
  const journal = JSON.parse(
    readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8'),
  ) as { entries: Migration[] };
  return journal.entries;
}

async function checkSchemaVersion(sql: Sql): Promise<DatabaseProbeResult> {
  const shipped = shippedMigrations();
  const latest = shipped.at(-1);
  if (latest === undefined) return { schemaNewerThanCode: false };
  // drizzle's migrator records each applied migration with its journal timestamp.
  const [state] = await sql<{ present: boolean }[]>`
    select to_regclass('drizzle.__drizzle_migrations') is not null as present`;
  let appliedLatest = 0;
  if (state?.present) {
    const [row] = await sql<{ latest: string | null }[]>`
      select max(created_at)::text as latest from drizzle.__drizzle_migrations`;
    appliedLatest = Number(row?.latest ?? 0);
  }
  if (appliedLatest >= latest.when) return { schemaNewerThanCode: appliedLatest > latest.when };

  const applied = shipped.filter((migration) => migration.when <= appliedLatest).length;
  const [lock] = await sql<{ acquired: boolean }[]>`
    select pg_try_advisory_lock(${MIGRATION_LOCK_ID.toString()}::bigint) as acquired`;
  if (lock?.acquired) {
    await sql`select pg_advisory_unlock(${MIGRATION_LOCK_ID.toString()}::bigint)`;
    throw new SchemaFailure({
      kind: 'misconfigured',
      reason: `the database schema is behind this version (${applied} of ${shipped.length} migrations applied; this version needs ${latest.tag})`,
      variable: 'MIGRATE_ON_START',
      fix: 'run customer-sync migrate first, or set MIGRATE_ON_START=true',
    });
  }
  throw new SchemaFailure({
    kind: 'unreachable',
    reason: `another process is applying migrations (${applied} of ${shipped.length} applied)`,
  });
}

/** The schema check's verdict, carried through the attempt to the classifier. */
class SchemaFailure extends Error {
  readonly failure: ConnectFailure;
  constructor(failure: ConnectFailure) {
    super(failure.reason);
    this.name = 'SchemaFailure';
    this.failure = failure;
  }
}

function isSchemaFailure(error: unknown): error is SchemaFailure {
  return error instanceof SchemaFailure;
}
