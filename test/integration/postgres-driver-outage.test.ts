import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { installPostgresDriverFix } from '../../src/persistence/postgres-driver-fix.ts';

// The driver as the service runs it: mended before anything loads it (src/cli/bin.ts; test/run.ts
// preloads the same for every test file, and installing twice is a no-op).
installPostgresDriverFix();
const { default: postgres } = await import('postgres');
const { startTcpProxy, urlTarget } = await import('../support/tcp-proxy.ts');
const { testInfrastructure, testSql } = await import('../support/test-environment.ts');
const { waitFor } = await import('../support/wait-for.ts');

const SETTLE_MS = 5_000;

/** What a query came to, or 'still pending' if it had not settled in a few seconds. */
function outcome(query: Promise<unknown>): Promise<string> {
  return Promise.race([
    query.then(
      (value) => `resolved ${JSON.stringify(value)}`,
      (error: { code?: string }) => `rejected ${error.code}`,
    ),
    delay(SETTLE_MS).then(() => 'still pending'),
  ]);
}

/**
 * postgres.js with the service's mends (postgres-driver-fix.ts), one connection through a TCP
 * proxy that is cut while work is in flight (SPEC §4.5: an outage is a retry, never a hang).
 * One connection, so the one that died is the one that must serve the next queries.
 */
describe('the mended postgres.js driver across a connection reset', () => {
  it('fails the transaction cut mid-statement, and the next queries on its connection get their own answers', async () => {
    const { adminDatabaseUrl } = testInfrastructure();
    const proxy = await startTcpProxy(urlTarget(adminDatabaseUrl));
    const sql = postgres(proxy.proxiedUrl(adminDatabaseUrl), {
      max: 1,
      backoff: () => 0.05,
      onnotice: () => {},
    });
    try {
      await sql`select 1`;
      // Its statement fails on the reset, and postgres.js then sends `rollback` to the dead socket.
      const cut = sql.begin(async (tx) => {
        await tx`select pg_sleep(10) as cut_mid_statement`;
      });
      // Cut while the statement runs on the server, however slowly this machine got it there.
      const observer = testSql(adminDatabaseUrl);
      await waitFor('the statement to be running on the server', async () => {
        const running = await observer`
          select 1 from pg_stat_activity
          where state = 'active' and query like '%cut_mid_statement%' and pid <> pg_backend_pid()`;
        return running.length > 0;
      });
      proxy.cut();
      assert.equal(await outcome(cut), 'rejected CONNECTION_CLOSED');
      proxy.restore();

      for (const n of [1, 2, 3]) {
        assert.equal(
          await outcome(sql.begin((tx) => tx`select ${n}::int as n`)),
          `resolved [{"n":${n}}]`,
        );
        assert.equal(await outcome(sql`select ${n * 10}::int as m`), `resolved [{"m":${n * 10}}]`);
      }
    } finally {
      await sql.end({ timeout: 1 });
    }
  });

  it('fails a transaction begun between the socket error and its close, instead of leaving it pending', async () => {
    const { adminDatabaseUrl } = testInfrastructure();
    const proxy = await startTcpProxy(urlTarget(adminDatabaseUrl));
    let begunInTheGap: Promise<string> | undefined;
    // `socket` is postgres.js' documented custom-socket option, missing from its typings.
    const options = {
      max: 1,
      backoff: () => 0.05,
      onnotice: () => {},
      socket: () => {
        const socket = connect(proxy.port, '127.0.0.1');
        // As a Kafka fetch handled in the same turn of the event loop would: the pool still
        // lists the connection as open, its socket is already destroyed.
        socket.once('error', () =>
          setImmediate(() => {
            begunInTheGap ??= outcome(sql.begin((tx) => tx`select 42 as answer`));
          }),
        );
        return socket;
      },
    };
    const sql = postgres(proxy.proxiedUrl(adminDatabaseUrl), options);
    try {
      await sql`select 1`;
      proxy.cut();
      await waitFor('a transaction begun between the error and the close', () => begunInTheGap);
      proxy.restore();
      assert.ok(begunInTheGap, 'a transaction was begun between the error and the close');
      assert.equal(await begunInTheGap, 'rejected CONNECTION_CLOSED');
      for (const n of [1, 2, 3])
        assert.equal(await outcome(sql`select ${n}::int as n`), `resolved [{"n":${n}}]`);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});
