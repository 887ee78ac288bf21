/**
 * Start-up rides out a Postgres or Kafka that is not there yet, and stops at once on a
 * configuration that can never work. The real service runs as a child process; its Postgres or
 * Kafka is behind a TCP proxy that the test takes away and brings back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startLocalPostgres } from '../../dev/local-postgres.ts';
import { registerCleanup } from '../support/cleanup.ts';
import { startPipelineFixture } from '../support/pipeline-fixture.ts';
import type { ServiceProcess } from '../support/service-process.ts';
import { startTcpProxy, urlTarget } from '../support/tcp-proxy.ts';
import { testInfrastructure } from '../support/test-environment.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';
import { waitFor } from '../support/wait-for.ts';

/** A password that must never show up in a log line or on stderr. */
const PASSWORD = 'hunter2-start-up';
/** After the dependency comes back: the service retries at most every 5 s. */
const RECOVERY_MS = 20_000;

function withPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = PASSWORD;
  return parsed.toString();
}

async function httpPortOf(service: ServiceProcess): Promise<number> {
  const line = await waitFor('the service to open its health endpoints', () =>
    service.logs.find((entry) => entry.msg === 'health endpoints listening'),
  );
  return Number(line.httpPort);
}

async function get(port: number, path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: await response.json() };
}

function waitingLines(service: ServiceProcess, dependency: string) {
  return service.logs.filter((line) => line.dependency === dependency && line.level === 'warn');
}

async function exitOf(service: ServiceProcess) {
  await waitFor(
    `the service to exit by itself (log tail: ${JSON.stringify(service.logs.slice(-3))})`,
    () => service.hasExited(),
    { timeoutMs: 20_000 },
  );
  return service.kill('SIGKILL');
}

const stderrLines = (service: ServiceProcess) =>
  service.logs
    .flatMap((line) => (line.stderr === undefined ? [] : String(line.stderr).split('\n')))
    .filter(Boolean);

describe('start-up while a dependency is not there yet', () => {
  it('waits for Postgres, saying so, and is ready and processing within seconds of its return', async () => {
    const fixture = await startPipelineFixture({ partitions: 1 });
    const proxy = await startTcpProxy(urlTarget(fixture.databaseUrl));
    proxy.cut();
    const service = fixture
      .newService({ DATABASE_URL: withPassword(proxy.proxiedUrl(fixture.databaseUrl)) })
      .launch();
    const port = await httpPortOf(service);
    await waitFor('a log line saying it waits for PostgreSQL', () =>
      waitingLines(service, 'PostgreSQL').at(0),
    );
    const [line] = waitingLines(service, 'PostgreSQL');
    assert.equal(line?.endpoint, `127.0.0.1:${proxy.port}`);
    assert.equal(line?.variable, 'DATABASE_URL');
    assert.ok(line?.waitingSince && line.nextAttemptInMs !== undefined && line.givesUpAt);

    assert.deepEqual(await get(port, '/healthz'), { status: 200, body: { status: 'ok' } });
    const readiness = await get(port, '/readyz');
    assert.equal(readiness.status, 503);
    assert.match(
      String((readiness.body as { reason?: unknown }).reason),
      new RegExp(
        `^waiting for PostgreSQL at 127\\.0\\.0\\.1:${proxy.port} \\(DATABASE_URL\\) since `,
      ),
    );

    proxy.restore();
    await waitFor(
      'the service to join its group after Postgres came back',
      () => service.countLogs('joined the consumer group') > 0,
      { timeoutMs: RECOVERY_MS },
    );
    assert.equal((await get(port, '/readyz')).status, 200);

    const request = anUpdateRequest().withTenant('tenant-a').withExternalId('c-1').build();
    await fixture.publish([request]);
    await waitFor('the event to be applied', () => fixture.customer('tenant-a', 'c-1'));
    assert.equal(
      JSON.stringify(service.logs).includes(PASSWORD),
      false,
      'the password is never logged',
    );
    assert.deepEqual(stderrLines(service), []);
  });

  it('waits for Kafka, saying so, and is ready and processing within seconds of its return', async () => {
    const fixture = await startPipelineFixture({ partitions: 1 });
    const [bootstrap = ''] = testInfrastructure().kafkaBrokers.split(',');
    const [host = '', port = ''] = bootstrap.split(':');
    const proxy = await startTcpProxy({ host, port: Number(port) });
    proxy.cut();
    const service = fixture.newService({ KAFKA_BROKERS: `127.0.0.1:${proxy.port}` }).launch();
    const httpPort = await httpPortOf(service);
    await waitFor('a log line saying it waits for Kafka', () =>
      waitingLines(service, 'Kafka').at(0),
    );
    assert.equal(waitingLines(service, 'Kafka')[0]?.endpoint, `127.0.0.1:${proxy.port}`);
    const readiness = await get(httpPort, '/readyz');
    assert.equal(readiness.status, 503);
    assert.match(String((readiness.body as { reason?: unknown }).reason), /^waiting for Kafka at /);

    proxy.restore();
    await waitFor(
      'the service to join its group after Kafka came back',
      () => service.countLogs('joined the consumer group') > 0,
      { timeoutMs: RECOVERY_MS },
    );
    const request = anUpdateRequest().withTenant('tenant-a').withExternalId('k-1').build();
    await fixture.publish([request]);
    await waitFor('the event to be applied', () => fixture.customer('tenant-a', 'k-1'));
    assert.deepEqual(stderrLines(service), []);
  });

  it('gives up after STARTUP_TIMEOUT_MS with one line naming the dependency, exit 69', async () => {
    const fixture = await startPipelineFixture({ partitions: 1 });
    const proxy = await startTcpProxy(urlTarget(fixture.databaseUrl));
    proxy.cut();
    const service = fixture
      .newService({
        DATABASE_URL: withPassword(proxy.proxiedUrl(fixture.databaseUrl)),
        STARTUP_TIMEOUT_MS: '2000',
      })
      .launch();
    assert.deepEqual(await exitOf(service), { code: 69, signal: null });
    const [only, ...more] = stderrLines(service);
    assert.deepEqual(more, []);
    assert.match(
      only ?? '',
      new RegExp(
        `^customer-sync: PostgreSQL at 127\\.0\\.0\\.1:${proxy.port} \\(DATABASE_URL\\) was not reachable within 2(\\.\\d)? s: `,
      ),
    );
    assert.equal(JSON.stringify(service.logs).includes(PASSWORD), false);
  });

  it('stops at once when a stop is requested while it waits, exit 0', async () => {
    const fixture = await startPipelineFixture({ partitions: 1 });
    const proxy = await startTcpProxy(urlTarget(fixture.databaseUrl));
    proxy.cut();
    const service = fixture
      .newService({ DATABASE_URL: proxy.proxiedUrl(fixture.databaseUrl) })
      .launch();
    await waitFor('a log line saying it waits for PostgreSQL', () =>
      waitingLines(service, 'PostgreSQL').at(0),
    );
    const exit = service.kill('SIGTERM');
    await waitFor('the service to exit', () => service.hasExited(), { timeoutMs: 10_000 });
    assert.deepEqual(await exit, { code: 0, signal: null });
    assert.deepEqual(stderrLines(service), []);
  });
});

describe('start-up with a configuration that can never work', () => {
  it('exits at once, exit 78, with one line when the database does not exist', async () => {
    const fixture = await startPipelineFixture({ partitions: 1 });
    const missing = new URL(fixture.databaseUrl);
    missing.pathname = '/no_such_database';
    const service = fixture.newService({ DATABASE_URL: missing.toString() }).launch();
    assert.deepEqual(await exitOf(service), { code: 78, signal: null });
    assert.deepEqual(stderrLines(service), [
      `customer-sync: PostgreSQL at ${missing.host} (DATABASE_URL): the database does not exist (3D000); check the database name in DATABASE_URL (create it, or name an existing one)`,
    ]);
    assert.equal(waitingLines(service, 'PostgreSQL').length, 0, 'it did not wait');
  });

  it('exits at once, exit 78, with one line when the password is wrong', async () => {
    const fixture = await startPipelineFixture({ partitions: 1 });
    // A server of the test's own that asks for a password (the shared one trusts local users).
    const server = await startLocalPostgres({ password: 'the-right-one' });
    registerCleanup(() => server.stop());
    const wrong = new URL(server.url);
    wrong.password = PASSWORD;
    const service = fixture.newService({ DATABASE_URL: wrong.toString() }).launch();
    assert.deepEqual(await exitOf(service), { code: 78, signal: null });
    assert.deepEqual(stderrLines(service), [
      `customer-sync: PostgreSQL at ${wrong.host} (DATABASE_URL): the server refused the credentials (28P01); check the user name and password in DATABASE_URL`,
    ]);
    assert.equal(JSON.stringify(service.logs).includes(PASSWORD), false);
  });

  it('exits at once, exit 78, with one line when the server does not know the user', async () => {
    const fixture = await startPipelineFixture({ partitions: 1 });
    const stranger = new URL(fixture.databaseUrl);
    stranger.username = 'no_such_role';
    stranger.password = PASSWORD;
    const service = fixture.newService({ DATABASE_URL: stranger.toString() }).launch();
    assert.deepEqual(await exitOf(service), { code: 78, signal: null });
    assert.deepEqual(stderrLines(service), [
      `customer-sync: PostgreSQL at ${stranger.host} (DATABASE_URL): the server refused the credentials (28000); check the user name and password in DATABASE_URL`,
    ]);
    assert.equal(JSON.stringify(service.logs).includes(PASSWORD), false);
  });

  it('exits at once, exit 78, when the database is not migrated and nobody is migrating it', async () => {
    const fixture = await startPipelineFixture({ partitions: 1 });
    await fixture.sql`drop schema drizzle cascade`;
    const service = fixture.newService().launch();
    assert.deepEqual(await exitOf(service), { code: 78, signal: null });
    const [only, ...more] = stderrLines(service);
    assert.deepEqual(more, []);
    assert.match(
      only ?? '',
      /the database schema is behind this version \(0 of \d+ migrations applied; this version needs \S+\); run customer-sync migrate first, or set MIGRATE_ON_START=true$/,
    );
  });
});
