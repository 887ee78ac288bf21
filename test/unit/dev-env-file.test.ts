import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isFromDevEnvFile, writeDevEnvFile } from '../../dev/dev-env-file.ts';

const STACK = {
  kafkaBrokers: '127.0.0.1:37233',
  databaseUrl: 'postgres://postgres@127.0.0.1:41000/postgres',
  allowInsecureLendingHttp: 'true',
  pid: 4242,
};

/** What a shell has after `source .tmp/dev.env`. */
function sourced(text: string): Record<string, string> {
  const file = join(mkdtempSync(join(tmpdir(), 'dev-env-')), 'dev.env');
  writeFileSync(file, text);
  const printed = execFileSync('bash', ['-c', `source ${file} && env -0`], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '' },
  });
  return Object.fromEntries(
    printed
      .split('\0')
      .filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
}

describe('.tmp/dev.env', () => {
  it('exports the dev stack for a second terminal', () => {
    const env = sourced(writeDevEnvFile(STACK));
    assert.equal(env.KAFKA_BROKERS, STACK.kafkaBrokers);
    assert.equal(env.DATABASE_URL, STACK.databaseUrl);
  });

  it('is recognised in a shell that sourced it, so a later npm run dev ignores its addresses', () => {
    assert.equal(isFromDevEnvFile(sourced(writeDevEnvFile(STACK))), true);
  });

  it('is not confused with addresses the user set, even after sourcing it', () => {
    const env = sourced(writeDevEnvFile(STACK));
    assert.equal(isFromDevEnvFile({ ...env, KAFKA_BROKERS: 'kafka.internal:9092' }), false);
    assert.equal(isFromDevEnvFile({ ...env, DATABASE_URL: 'postgres://app@db/app' }), false);
    assert.equal(
      isFromDevEnvFile({ KAFKA_BROKERS: STACK.kafkaBrokers, DATABASE_URL: STACK.databaseUrl }),
      false,
    );
  });
});
