import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Sql } from 'postgres';
import { publishPaced } from '../support/paced-publisher.ts';
import {
  assertCustomersMatchModel,
  assertEveryChangeAnnouncedOnce,
  processedEventCount,
  readCustomerRows,
  waitForAllProcessed,
} from '../support/pipeline-checks.ts';
import { startPipelineFixture } from '../support/pipeline-fixture.ts';
import { expectedCustomers } from '../support/reference-model.ts';
import type { ServiceProcess } from '../support/service-process.ts';
import { startTcpProxy, urlTarget } from '../support/tcp-proxy.ts';
import { waitFor } from '../support/wait-for.ts';
import { generateWorkload } from '../support/workload.ts';

const TENANTS = {
  'tenant-a': ['collections', 'servicing'],
  'tenant-b': ['collections'],
  'tenant-c': ['servicing', 'collections'],
};
const RETRYING = 'transient failure, partition paused, retrying';
const RELAY_RETRYING = 'outbox relay failed, retrying';

async function readiness(service: ServiceProcess): Promise<number> {
  const running = await waitFor('the service to log its HTTP port', () =>
    service.logs.find((line) => line.msg === 'customer-sync is running'),
  );
  const response = await fetch(`http://127.0.0.1:${String(running.httpPort)}/readyz`, {
    signal: AbortSignal.timeout(10_000),
  });
  await response.body?.cancel();
  return response.status;
}

/**
 * On failure, says what the service logged since `from` and what its database sessions are
 * doing: a stuck retry loop or a transaction left open shows there.
 */
async function explained<T>(
  service: ServiceProcess,
  sql: Sql,
  from: number,
  work: Promise<T>,
): Promise<T> {
  try {
    return await work;
  } catch (error) {
    const logs = service.logs.slice(from).slice(-15);
    const sessions = await sql`
      select application_name, state, wait_event_type, wait_event, left(query, 80) as query,
             now() - xact_start as in_transaction_for
      from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`
      .then((rows) => rows.map((row) => ({ ...row })))
      .catch((failure: unknown) => String(failure));
    throw new Error(
      `${(error as Error).message}\nservice log since the cut: ${JSON.stringify(logs)}` +
        `\ndatabase sessions: ${JSON.stringify(sessions)}`,
    );
  }
}

describe('Postgres goes away mid-stream and comes back (SPEC §4.1, §4.2, §4.5, §4.6)', () => {
  it('retries while it is gone, skips nothing, and applies and announces every event once', async () => {
    const workload = generateWorkload({
      seed: 5_550_123,
      tenants: TENANTS,
      customersPerTenant: 12,
      events: 1_500,
      duplicateRatio: 0.1,
    });
    const fixture = await startPipelineFixture({ partitions: 3, tenants: TENANTS });
    // The service reaches Postgres only through the proxy; the test's own client does not.
    const proxy = await startTcpProxy(urlTarget(fixture.databaseUrl));
    const service = await fixture
      .newService({ DATABASE_URL: proxy.proxiedUrl(fixture.databaseUrl) })
      .start();
    assert.equal(await readiness(service), 200, 'ready before the outage');

    const publishing = publishPaced(fixture.publish, workload.stream, {
      sliceSize: 25,
      pauseMs: 40,
    });
    await waitFor(
      'the service to be applying the stream',
      async () => (await processedEventCount(fixture.sql)) >= 300,
    );

    const logsAtCut = service.logs.length;
    const retriesBefore = service.countLogs(RETRYING);
    const relayRetriesBefore = service.countLogs(RELAY_RETRYING);
    proxy.cut();
    const publishedAtCut = publishing.published();

    // postgres.js waits out its reconnect backoff (capped at 2 s by connectDatabase) before a
    // query fails; the deadlines here are generous: what is checked is that failures are retried.
    const outageDeadline = { timeoutMs: 60_000 };
    await explained(
      service,
      fixture.sql,
      logsAtCut,
      waitFor(
        'the consumer to retry with the partition paused',
        () => service.countLogs(RETRYING) > retriesBefore,
        outageDeadline,
      ),
    );
    await explained(
      service,
      fixture.sql,
      logsAtCut,
      waitFor(
        'the outbox relay to retry',
        () => service.countLogs(RELAY_RETRYING) > relayRetriesBefore,
        outageDeadline,
      ),
    );
    await explained(
      service,
      fixture.sql,
      logsAtCut,
      waitFor(
        '/readyz to report not ready',
        async () => (await readiness(service)) === 503,
        outageDeadline,
      ),
    );
    const processedDuringOutage = await processedEventCount(fixture.sql);
    await waitFor(
      'more events to be published during the outage',
      () => publishing.published() >= Math.min(workload.stream.length, publishedAtCut + 200),
    );
    assert.equal(
      await processedEventCount(fixture.sql),
      processedDuringOutage,
      'nothing is applied while the database is cut off',
    );

    proxy.restore();
    await explained(
      service,
      fixture.sql,
      logsAtCut,
      waitFor(
        '/readyz to report ready again',
        async () => (await readiness(service)) === 200,
        outageDeadline,
      ),
    );
    await publishing.done;

    await explained(
      service,
      fixture.sql,
      logsAtCut,
      waitForAllProcessed(fixture.sql, workload.events.length),
    );
    const rows = await readCustomerRows(fixture.sql);
    assertCustomersMatchModel(rows, expectedCustomers(workload.events.map((e) => e.expected)));
    await assertEveryChangeAnnouncedOnce(fixture.updated.messages, rows);
    assert.equal(fixture.deadLetters.messages.length, 0, 'an outage dead-letters nothing');
    assert.equal(service.hasExited(), false, 'the service rode out the outage');
  });
});
