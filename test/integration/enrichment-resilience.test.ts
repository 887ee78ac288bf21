/**
 * Enrichment when the lending system misbehaves (SPEC §6, §4.8, §4.9): it hangs, it fails half
 * its calls slowly, the worker is killed mid-job, the service is stopped mid-job. The
 * assertions are about what happens, never how fast.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { CustomerUpdated } from '../../src/contracts/customer-updated.ts';
import {
  startTestLendingSimulator,
  type TestLendingSimulator,
} from '../support/lending-simulator-fixture.ts';
import { startPipelineFixture } from '../support/pipeline-fixture.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';
import { waitFor } from '../support/wait-for.ts';

describe('enrichment when the lending system misbehaves', () => {
  let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;
  let lending: TestLendingSimulator;

  before(async () => {
    lending = await startTestLendingSimulator({ seed: 'resilience' });
    fixture = await startPipelineFixture({ partitions: 3 });
  });

  const serviceEnv = (overrides: Record<string, string> = {}) => ({
    LENDING_API_URL: lending.url,
    LENDING_API_TIMEOUT_MS: '3000',
    ENRICHMENT_CONCURRENCY: '4',
    ENRICHMENT_POLL_INTERVAL_MS: '100',
    ENRICHMENT_LEASE_MS: '2000',
    ENRICHMENT_RETRY_INITIAL_DELAY_MS: '200',
    ENRICHMENT_RETRY_MAX_DELAY_MS: '2000',
    ENRICHMENT_BREAKER_MINIMUM_CALLS: '4',
    ENRICHMENT_BREAKER_WINDOW_CALLS: '4',
    ENRICHMENT_BREAKER_FAILURE_RATE_PERCENT: '50',
    ENRICHMENT_BREAKER_OPEN_MS: '1000',
    ...overrides,
  });

  const jobOf = async (externalId: string) =>
    (
      await fixture.sql`select state, attempts, last_error_code
                        from enrichment_jobs where external_id = ${externalId} order by id`
    )[0];

  const enrichmentsOf = (externalId: string) =>
    fixture.updated
      .json<CustomerUpdated>()
      .filter((event) => event.externalId === externalId && event.reason === 'enrichment');

  async function outboxDrained() {
    await waitFor('the outbox to drain', async () => {
      const [row] = await fixture.sql`select count(*)::int as count from outbox`;
      return row?.count === 0;
    });
  }

  it('keeps applying other events while the lending system hangs; jobs finish after retries at 50% errors and 2 s latency, and the breaker opens and closes', async () => {
    const service = await fixture.newService(serviceEnv()).start();
    await lending.setFaults({ timeoutRate: 1 });

    const enriched = Array.from({ length: 8 }, (_, index) => `hang-enrich-${index}`);
    const plain = Array.from({ length: 24 }, (_, index) => `hang-plain-${index}`);
    // Enrichment requests first: the plain ones sit behind them in every partition.
    await fixture.publish(
      enriched.map((id) => anUpdateRequest().withExternalId(id).withData({ enrich: true }).build()),
    );
    await fixture.publish(
      plain.map((id) => anUpdateRequest().withExternalId(id).withData({ firstName: id }).build()),
    );

    await waitFor('every plain event applied', async () => {
      const rows = await fixture.sql`select count(*)::int as count from customers
                                      where external_id like 'hang-plain-%' and first_name = external_id`;
      return rows[0]?.count === plain.length;
    });
    await waitFor('an enrichment attempt to have timed out', async () => {
      const [row] = await fixture.sql`select count(*)::int as count from enrichment_jobs
                                      where last_error_code = 'lending.timeout'`;
      return (row?.count ?? 0) > 0;
    });
    const [succeeded] = await fixture.sql`select count(*)::int as count from enrichment_jobs
                                          where state = 'succeeded'`;
    assert.equal(succeeded?.count, 0, 'no lending system answered, so no job can have succeeded');
    for (const id of enriched) {
      const row = await fixture.customer('tenant-a', id);
      assert.equal(row?.version, 1, `${id}: the request itself was applied`);
    }
    await waitFor(
      'the circuit to open',
      () => service.countLogs('lending-system circuit opened') > 0,
    );

    await lending.setFaults({ timeoutRate: 0, errorRate: 0.5, latencyMs: 2000 });
    const more = Array.from({ length: 12 }, (_, index) => `flaky-plain-${index}`);
    await fixture.publish(
      more.map((id) => anUpdateRequest().withExternalId(id).withData({ lastName: id }).build()),
    );

    await waitFor(
      'every enrichment job to succeed',
      async () => {
        const [row] = await fixture.sql`select count(*)::int as count from enrichment_jobs
                                        where state = 'succeeded'`;
        return row?.count === enriched.length;
      },
      { timeoutMs: 240_000 },
    );
    await waitFor('the plain events sent during the errors', async () => {
      const [row] = await fixture.sql`select count(*)::int as count from customers
                                      where external_id like 'flaky-plain-%' and last_name = external_id`;
      return row?.count === more.length;
    });

    const jobs = await fixture.sql`select attempts from enrichment_jobs`;
    assert.ok(
      jobs.some((job) => job.attempts > 1),
      'jobs were retried',
    );
    assert.ok(lending.stats().outcomes.error > 0, 'the simulator did fail calls');
    const transitions = service.logs
      .map((line) => line.msg)
      .filter((msg) => typeof msg === 'string' && msg.startsWith('lending-system circuit'));
    const opened = transitions.indexOf('lending-system circuit opened');
    assert.ok(opened >= 0);
    assert.ok(
      transitions.indexOf('lending-system circuit closed', opened) > opened,
      `closed after opening: ${transitions.join(' / ')}`,
    );

    await outboxDrained();
    for (const id of enriched) {
      await waitFor(
        `the enrichment of ${id} on customer.updated`,
        () => enrichmentsOf(id).length > 0,
      );
      assert.equal(enrichmentsOf(id).length, 1, `${id}: announced once`);
      assert.equal((await fixture.customer('tenant-a', id))?.version, 2, `${id}: filled once`);
    }

    await lending.setFaults({ errorRate: 0, latencyMs: 0 });
    const stopped = await service.kill('SIGTERM');
    assert.equal(stopped?.code, 0);
  });

  it('picks up the job of a worker killed with SIGKILL mid-job, and applies it once', async () => {
    const doomed = await fixture
      .newService(serviceEnv({ LENDING_API_TIMEOUT_MS: '120000' }))
      .start();
    await lending.setFaults({ latencyMs: 600_000 });
    const inFlightBefore = lending.stats().inFlight;
    await fixture.publish([
      anUpdateRequest().withExternalId('killed-mid-job').withData({ enrich: true }).build(),
    ]);
    await waitFor('the job to be in the middle of a lending-system call', async () => {
      const job = await jobOf('killed-mid-job');
      return job?.state === 'running' && lending.stats().inFlight > inFlightBefore;
    });
    await doomed.kill('SIGKILL');
    await lending.setFaults({ latencyMs: 0 });

    const survivor = await fixture.newService(serviceEnv()).start();
    await waitFor('the job to succeed on another worker', async () => {
      const job = await jobOf('killed-mid-job');
      return job?.state === 'succeeded' && job;
    });
    const job = await jobOf('killed-mid-job');
    assert.equal(job?.attempts, 2, 'claimed again after the lease of the dead worker expired');
    const row = await fixture.customer('tenant-a', 'killed-mid-job');
    assert.equal(row?.version, 2);
    const expectedLoans = await lending.loans('tenant-a', 'killed-mid-job');
    const [loans] = await fixture.sql`select count(*)::int as count from loans
                                      where external_id = 'killed-mid-job'`;
    assert.equal(loans?.count, expectedLoans.length);
    await outboxDrained();
    await waitFor(
      'the enrichment on customer.updated',
      () => enrichmentsOf('killed-mid-job').length > 0,
    );
    assert.equal(enrichmentsOf('killed-mid-job').length, 1);
    assert.equal((await survivor.kill('SIGTERM'))?.code, 0);
  });

  it('hands a job in flight back at SIGTERM, without counting the attempt, and exits cleanly', async () => {
    await lending.setFaults({ latencyMs: 600_000 });
    const inFlightBefore = lending.stats().inFlight;
    const stopping = await fixture
      .newService(serviceEnv({ LENDING_API_TIMEOUT_MS: '120000', SHUTDOWN_TIMEOUT_MS: '8000' }))
      .start();
    await fixture.publish([
      anUpdateRequest().withExternalId('stopped-mid-job').withData({ enrich: true }).build(),
    ]);
    await waitFor('the job to be in the middle of a lending-system call', async () => {
      const job = await jobOf('stopped-mid-job');
      return job?.state === 'running' && lending.stats().inFlight > inFlightBefore;
    });
    const exit = await stopping.kill('SIGTERM');
    assert.equal(exit?.code, 0);
    assert.ok(stopping.countLogs('enrichment job handed back at shutdown') > 0);
    const job = await jobOf('stopped-mid-job');
    assert.equal(job?.state, 'pending');
    assert.equal(job?.attempts, 0);

    await lending.setFaults({ latencyMs: 0 });
    await fixture.newService(serviceEnv()).start();
    await waitFor('the job to succeed after the restart', async () => {
      const current = await jobOf('stopped-mid-job');
      return current?.state === 'succeeded';
    });
    assert.equal((await jobOf('stopped-mid-job'))?.attempts, 1);
  });
});
