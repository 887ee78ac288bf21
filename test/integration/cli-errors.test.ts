import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));

function customerSync(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 120_000, // generous: the machine may be busy with other test files
  });
  return {
    code: result.status,
    stdout: result.stdout,
    stderr: result.stderr.trim().split('\n').filter(Boolean),
  };
}

describe('the command line, given bad input', () => {
  it('refuses to start the service with a broken configuration: one line per problem, exit 78', () => {
    const { code, stderr } = customerSync(['run'], {
      KAFKA_BROKERS: 'broker-without-port',
      HTTP_PORT: '99999',
      DATABASE_URL: 'mysql://user:hunter2@db/app',
    });
    assert.equal(code, 78);
    assert.deepEqual(stderr, [
      'customer-sync: configuration: KAFKA_BROKERS must list brokers as host:port,host:port',
      'customer-sync: configuration: DATABASE_URL must be a postgres:// URL',
      'customer-sync: configuration: HTTP_PORT must be at most 65535',
    ]);
    assert.doesNotMatch(stderr.join('\n'), /hunter2/);
  });

  it('names the missing variables when nothing is configured', () => {
    const { code, stderr } = customerSync(['run']);
    assert.equal(code, 78);
    assert.deepEqual(stderr, [
      'customer-sync: configuration: KAFKA_BROKERS is required',
      'customer-sync: configuration: DATABASE_URL is required',
    ]);
  });

  it('answers an unknown command or option with one line and exit 2', () => {
    const unknown = customerSync(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr.length, 1);
    assert.match(unknown.stderr[0] ?? '', /unknown command 'frobnicate'/);

    const option = customerSync(['tenants', 'set', 'tenant-a', '--colour', 'blue']);
    assert.equal(option.code, 2);
    assert.equal(option.stderr.length, 1);
    assert.match(option.stderr[0] ?? '', /--colour/);
  });

  it('shows help for every command', () => {
    const usage = customerSync(['--help']);
    assert.equal(usage.code, 0);
    const commands = [...usage.stdout.matchAll(/^ {2}(\S+)/gm)].map((match) => match[1] as string);
    assert.ok(commands.includes('run') && commands.includes('produce'));
    for (const command of commands) {
      const help = customerSync([command, '--help']);
      assert.equal(help.code, 0, command);
      assert.match(help.stdout, new RegExp(`customer-sync ${command}`), command);
    }
  });
});
