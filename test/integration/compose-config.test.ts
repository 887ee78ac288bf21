/**
 * docker-compose.yml as a real Compose implementation reads it (`config`: parse, interpolate,
 * validate, resolve references; no engine needed). test/unit/docker-compose.test.ts checks it
 * against the Compose Specification's schema and checks what it configures.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { type ComposeCli, composeCli } from '../support/compose-cli.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');

const found = composeCli();
if ('missing' in found) throw new Error(`cannot check docker-compose.yml: ${found.missing}`);
const cli: ComposeCli = found;

function composeConfig(file: string, env: Record<string, string> = {}, extra: string[] = []) {
  const result = spawnSync(
    cli.command,
    [...cli.args, '--project-directory', ROOT, '-f', file, ...extra, 'config'],
    { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH ?? '', ...env } },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr.trim() };
}

function variant(edit: (text: string) => string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'compose-')), 'docker-compose.yml');
  writeFileSync(file, edit(readFileSync(COMPOSE_FILE, 'utf8')));
  return file;
}

interface Resolved {
  services: Record<string, { environment?: Record<string, string | null> }>;
}

describe(`docker-compose.yml, read by ${cli.version}`, () => {
  it('is accepted as it is', () => {
    const result = composeConfig(COMPOSE_FILE);
    assert.equal(result.code, 0, result.stderr);
    const resolved = parse(result.stdout) as Resolved;
    assert.deepEqual(Object.keys(resolved.services).sort(), [
      'customer-sync',
      'grafana',
      'kafka',
      'lending-sim',
      'postgres',
      'prometheus',
      'schema-registry',
      'setup',
    ]);
    const environment = resolved.services['customer-sync']?.environment ?? {};
    assert.equal(environment.SCHEMA_REGISTRY_URL ?? '', '', 'plain JSON unless asked for');
  });

  it('turns the registry on with SCHEMA_REGISTRY_URL, as the README says', () => {
    const result = composeConfig(
      COMPOSE_FILE,
      { SCHEMA_REGISTRY_URL: 'http://schema-registry:8081' },
      ['--profile', 'registry'],
    );
    assert.equal(result.code, 0, result.stderr);
    const resolved = parse(result.stdout) as Resolved;
    assert.equal(
      resolved.services['customer-sync']?.environment?.SCHEMA_REGISTRY_URL,
      'http://schema-registry:8081',
    );
  });

  it('would refuse a file with a mistake (the check is not vacuous)', () => {
    const misspelt = composeConfig(
      variant((text) => text.replace('restart: unless-stopped', 'restrat: unless-stopped')),
    );
    assert.notEqual(misspelt.code, 0);
    assert.match(misspelt.stderr, /restrat/);
    const dangling = composeConfig(
      variant((text) => text.replace(/^ {6}setup:$/m, '      set-up:')),
    );
    assert.notEqual(dangling.code, 0);
    assert.match(dangling.stderr, /set-up/);
  });
});
