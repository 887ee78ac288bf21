/**
 * SPEC §8 against the real driver: postgres.js and drizzle put customer values in their
 * errors (the query's parameters, Postgres's `detail`, drizzle's message). Logged any way the
 * code could log them (under `failure`, as `logger.error(error)`, deep inside a record, in a
 * child's bindings, from an uncaught exception or the CLI's last catch), no value appears.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql as drizzleSql } from 'drizzle-orm';
import { connectDatabase } from '../../src/persistence/database.ts';
import { registerCleanup } from '../support/cleanup.ts';
import { captureLogs } from '../support/log-capture.ts';
import { runCli } from '../support/run-cli.ts';
import { createTestDatabase, testSql } from '../support/test-environment.ts';

const EMAIL = 'ann.leak@example.com';
const NAME = 'Annabelle-Leak';
const PHONE = '+14155550199';
const SECRETS = [EMAIL, NAME, PHONE, '4155550199'];

function assertNoValue(output: string): void {
  for (const secret of SECRETS) assert.ok(!output.includes(secret), `${secret} leaked:\n${output}`);
}

async function caught(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  assert.fail('expected the statement to fail');
}

describe('real driver errors in the logs', () => {
  let databaseUrl: string;
  let database: ReturnType<typeof connectDatabase>;

  before(async () => {
    databaseUrl = await createTestDatabase();
    database = connectDatabase(databaseUrl, { poolMax: 2 });
    registerCleanup(() => database.close());
    await database.sql`create table leak_check (
      email text primary key, name text not null, phone text check (phone not like '+1415%'))`;
    await database.sql`insert into leak_check values (${EMAIL}, ${NAME}, null)`;
  });

  it('a unique violation from postgres.js: class, code, SQLSTATE and constraint, no value', async () => {
    const error = await caught(
      () => database.sql`insert into leak_check values (${EMAIL}, ${NAME}, null)`,
    );
    // The driver really carries the values: what the logger must not write.
    assert.match(JSON.stringify(error, Object.getOwnPropertyNames(error)), new RegExp(NAME));
    const { logger, text } = captureLogs();
    logger.warn({ failure: error, attempt: 1 }, 'apply failed');
    logger.error(error);
    logger.info({ deep: { a: { b: { c: { d: { e: { error } } } } } } }, 'deep');
    logger.child({ cause: error }).warn('child');
    const output = text();
    assertNoValue(output);
    const first = JSON.parse(output.split('\n')[0] ?? '') as { failure: Record<string, unknown> };
    assert.equal(first.failure.type, 'PostgresError');
    assert.equal(first.failure.sqlState, '23505');
    assert.equal(first.failure.constraint, 'leak_check_pkey');
    assert.match(String(first.failure.message), /duplicate key value violates unique constraint/);
  });

  it('a check violation through drizzle (its error names the query and the params)', async () => {
    const error = await caught(() =>
      database.db.execute(
        drizzleSql`insert into leak_check values (${`other-${EMAIL}`}, ${NAME}, ${PHONE})`,
      ),
    );
    assert.match(String((error as Error).message), new RegExp(NAME.replace('-', '\\-')));
    const { logger, text } = captureLogs();
    logger.error({ err: error }, 'drizzle failed');
    logger.error(error);
    const output = text();
    assertNoValue(output);
    const line = JSON.parse(output.split('\n')[0] ?? '') as {
      err: { type: string; message: string; cause: Record<string, unknown> };
    };
    assert.equal(line.err.message, 'Failed query');
    assert.equal(line.err.cause.sqlState, '23514');
    assert.equal(line.err.cause.constraint, 'leak_check_phone_check');
  });

  it('an uncaught driver error goes through the logger, not Node’s printer', async () => {
    const handlers = fileURLToPath(
      new URL('../../src/observability/process-failure-handlers.ts', import.meta.url),
    );
    const logger = fileURLToPath(new URL('../../src/observability/logger.ts', import.meta.url));
    const script = `
      import postgres from 'postgres';
      import { createLogger } from ${JSON.stringify(logger)};
      import { logProcessFailures } from ${JSON.stringify(handlers)};
      logProcessFailures(createLogger({ level: 'info' }));
      const sql = postgres(process.env.URL, { max: 1, onnotice: () => {} });
      const error = await sql\`insert into leak_check values (\${${JSON.stringify(EMAIL)}}, 'x', null)\`.catch((e) => e);
      await sql.end();
      setTimeout(() => { throw error; });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', URL: databaseUrl },
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 1, stderr);
    assert.equal(stderr, '', 'nothing printed by Node itself');
    assertNoValue(stdout);
    const line = JSON.parse(stdout.trim()) as {
      level: string;
      msg: string;
      err: { sqlState: string; stack: string };
    };
    assert.equal(line.level, 'fatal');
    assert.equal(line.msg, 'uncaught exception; exiting');
    assert.equal(line.err.sqlState, '23505');
    assert.match(line.err.stack, /^\s+at /, 'the stack frames are kept for the bug report');
  });

  it("the CLI's last catch logs a driver error in one line", async () => {
    // A migrated database whose tenants table went missing: the start-up check of the schema
    // version passes (an unmigrated one is refused before any query), the query fails.
    const broken = await createTestDatabase();
    await testSql(broken)`drop table tenants cascade`;
    const result = await runCli(['tenants', 'list'], { env: { DATABASE_URL: broken } });
    assert.equal(result.code, 1);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    const line = JSON.parse(lines[0] ?? '') as {
      level: string;
      err: { cause?: { sqlState?: string } };
    };
    assert.equal(line.level, 'error');
    assert.equal(line.err.cause?.sqlState, '42P01');
  });
});
