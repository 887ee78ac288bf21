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

  it('suggests what a near miss meant, in our words, exit 2', () => {
    const command = customerSync(['replya']);
    assert.equal(command.code, 2);
    assert.deepEqual(command.stderr, [
      "customer-sync: unknown command 'replya'; did you mean replay? (customer-sync --help lists them)",
    ]);
    const option = customerSync(['dlq', 'list', '--limt', '5']);
    assert.equal(option.code, 2);
    assert.deepEqual(option.stderr, [
      'customer-sync: unknown option --limt; did you mean --limit? (customer-sync dlq --help shows the usage)',
    ]);
    const action = customerSync(['tenants', 'lst']);
    assert.equal(action.code, 2);
    assert.match(action.stderr.join('\n'), /got 'lst'; did you mean list\?/);
  });

  it('fails within seconds, with one line naming which and where, when a dependency is unreachable', () => {
    const broker = customerSync(['produce', '--file', 'schemas/examples/demo-events.ndjson'], {
      KAFKA_BROKERS: '127.0.0.1:1',
    });
    assert.equal(broker.code, 69);
    assert.equal(broker.stderr.length, 1);
    assert.match(
      broker.stderr[0] ?? '',
      /^customer-sync: Kafka at 127\.0\.0\.1:1 \(KAFKA_BROKERS\) was not reachable within [45](\.\d)? s: connection refused \(ECONNREFUSED\)$/,
    );
    const database = customerSync(['tenants', 'list'], {
      DATABASE_URL: 'postgres://app:hunter2@127.0.0.1:1/app',
    });
    assert.equal(database.code, 69);
    assert.equal(database.stderr.length, 1);
    assert.match(
      database.stderr[0] ?? '',
      /^customer-sync: PostgreSQL at 127\.0\.0\.1:1 \(DATABASE_URL\) was not reachable within [45](\.\d)? s: connection refused \(ECONNREFUSED\)$/,
    );
  });

  it('with --wait, says what it waits for as it waits, up to STARTUP_TIMEOUT_MS', () => {
    const { code, stderr } = customerSync(['tenants', 'list', '--wait'], {
      DATABASE_URL: 'postgres://app:hunter2@127.0.0.1:1/app',
      STARTUP_TIMEOUT_MS: '7000',
    });
    assert.equal(code, 69);
    assert.match(
      stderr[0] ?? '',
      /^customer-sync: waiting for PostgreSQL at 127\.0\.0\.1:1 \(DATABASE_URL\) since \S+: connection refused \(ECONNREFUSED\); 1 attempt\(s\) since the last report, next try in \d+\.\d s, gives up at \S+$/,
    );
    assert.match(stderr.at(-1) ?? '', /was not reachable within 7(\.\d)? s: connection refused/);
    assert.doesNotMatch(stderr.join('\n'), /hunter2/);
    assert.equal(customerSync(['run', '--wait']).code, 2, 'the service always waits');
  });

  it('refuses an http:// lending system for a tenant, and ids that would rewrite its paths', () => {
    const env = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };
    const insecure = customerSync(
      [
        'tenants',
        'set',
        'tenant-a',
        '--task-types',
        'collections',
        '--lending-api-url',
        'http://l.example',
      ],
      env,
    );
    assert.equal(insecure.code, 2);
    assert.deepEqual(insecure.stderr, [
      'customer-sync: tenants set: --lending-api-url must be an https:// URL (LENDING_API_ALLOW_INSECURE_HTTP=true allows http://, for development only)',
    ]);
    for (const tenantId of ['.', '..']) {
      const dots = customerSync(['tenants', 'set', tenantId, '--task-types', 'collections'], env);
      assert.equal(dots.code, 2);
      assert.match(dots.stderr[0] ?? '', /<tenantId> must be .* \(and not '\.' or '\.\.'\)/);
    }
  });

  it('refuses SASL credentials over plaintext Kafka without sending them anywhere', () => {
    const { code, stderr } = customerSync(['run'], {
      KAFKA_BROKERS: '127.0.0.1:9092',
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'svc',
      KAFKA_SASL_PASSWORD: 'hunter3',
    });
    assert.equal(code, 78);
    assert.equal(stderr.length, 1);
    assert.match(
      stderr[0] ?? '',
      /configuration: KAFKA_SASL_MECHANISM over a plaintext connection/,
    );
    assert.doesNotMatch(stderr.join('\n'), /hunter3/);
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
