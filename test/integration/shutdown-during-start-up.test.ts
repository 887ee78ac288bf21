/**
 * SIGTERM while the service is still starting up (SPEC §4.9): an orchestrator stops a replica
 * whenever it likes, also while it waits for Kafka or for another replica's migrations. The
 * real CLI is signalled half-way through its start-up and must stop what it had started and
 * exit 0 at once, not die by the signal or hang until its shutdown deadline.
 */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { MIGRATION_LOCK_ID } from '../../src/persistence/migrate.ts';
import { registerCleanup } from '../support/cleanup.ts';
import { ServiceProcess } from '../support/service-process.ts';
import { createTestDatabase, testSql, uniqueName } from '../support/test-environment.ts';
import { waitFor } from '../support/wait-for.ts';

/** Well inside the service's 20 s SHUTDOWN_TIMEOUT_MS (test/support/service-process.ts). */
const PROMPT_EXIT_MS = 10_000;

/** Topic names of the test's own; the service is stopped before it would use them. */
function unusedTopics() {
  const base = uniqueName('t');
  return {
    updateRequested: `${base}.customer.update.requested`,
    customerUpdated: `${base}.customer.updated`,
    deadLetter: `${base}.customer.update.requested.dlq`,
  };
}

/** A "broker" that accepts connections and never answers: Kafka that is not reachable yet. */
async function startSilentBroker(): Promise<{ port: number; connections: () => number }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => {}).on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registerCleanup(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return { port: address.port, connections: () => connections };
}

/** Sends SIGTERM and waits for the exit, failing if it does not come within PROMPT_EXIT_MS. */
async function terminate(service: ServiceProcess) {
  assert.equal(service.hasExited(), false, 'still starting up when signalled');
  let timer: NodeJS.Timeout | undefined;
  const tooSlow = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the service did not exit within ${PROMPT_EXIT_MS} ms`)),
      PROMPT_EXIT_MS,
    );
  });
  try {
    return await Promise.race([service.kill('SIGTERM'), tooSlow]);
  } finally {
    clearTimeout(timer);
  }
}

function assertStoppedDuringStartUp(service: ServiceProcess) {
  assert.equal(
    service.countLogs('shutdown requested during start-up; stopping what has started'),
    1,
    'one line says why it stops',
  );
  assert.equal(service.countLogs('customer-sync is running'), 0);
  const problems = service.logs.filter(
    (line) => line.stderr !== undefined || line.level === 'error' || line.level === 'fatal',
  );
  assert.deepEqual(problems, [], 'no error and nothing on stderr');
}

describe('a stop requested during start-up (SPEC §4.9)', () => {
  it('stops waiting for a Kafka that is not reachable yet, and exits 0 at once', async () => {
    const broker = await startSilentBroker();
    const service = new ServiceProcess({
      databaseUrl: await createTestDatabase(),
      topics: unusedTopics(),
      env: { KAFKA_BROKERS: `127.0.0.1:${broker.port}` },
    }).launch();
    await waitFor('the service to connect to the broker', () => broker.connections() > 0);

    assert.deepEqual(await terminate(service), { code: 0, signal: null });
    assertStoppedDuringStartUp(service);
  });

  it('stops waiting for another replica to finish migrating, and exits 0 at once', async () => {
    const databaseUrl = await createTestDatabase();
    const sql = testSql(databaseUrl);
    // Another replica migrating: it holds the lock that replicas take turns with.
    const otherReplica = await sql.reserve();
    registerCleanup(() => otherReplica.release());
    await otherReplica`select pg_advisory_lock(${MIGRATION_LOCK_ID.toString()}::bigint)`;
    const service = new ServiceProcess({
      databaseUrl,
      topics: unusedTopics(),
      env: { MIGRATE_ON_START: 'true' },
    }).launch();
    await waitFor('the service to wait for the migration lock', async () => {
      const [row] = await sql<{ waiting: number }[]>`
        select count(*)::int as waiting from pg_locks
        where locktype = 'advisory' and not granted
          and database = (select oid from pg_database where datname = current_database())`;
      return (row?.waiting ?? 0) > 0;
    });

    assert.deepEqual(await terminate(service), { code: 0, signal: null });
    assertStoppedDuringStartUp(service);
  });
});
