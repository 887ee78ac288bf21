import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import postgres from 'postgres';
import { startLocalKafka } from '../../dev/local-kafka.ts';
import { registerCleanup } from '../support/cleanup.ts';
import { startPipelineFixture } from '../support/pipeline-fixture.ts';
import { ServiceProcess } from '../support/service-process.ts';
import { createTestDatabase, uniqueName } from '../support/test-environment.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';
import { waitFor } from '../support/wait-for.ts';

/** Short thresholds, so that a stall shows within seconds (production: minutes). */
const LIVENESS_ENV = {
  LIVENESS_PROGRESS_TIMEOUT_MS: '4000',
  CONSUMER_LAG_SAMPLE_INTERVAL_MS: '500',
};

/** Polls an endpoint until `accept` takes its answer; fails with the last answer seen. */
async function waitForAnswer(
  service: ServiceProcess,
  path: string,
  description: string,
  accept: (answer: { status: number; body: unknown }) => boolean,
  timeoutMs = 60_000,
) {
  let last: unknown;
  try {
    return await waitFor(
      description,
      async () => {
        const answer = await service.http(path);
        last = answer;
        return accept(answer) ? answer : undefined;
      },
      { timeoutMs, intervalMs: 250 },
    );
  } catch (error) {
    throw new Error(
      `${(error as Error).message}; last ${path} answer: ${JSON.stringify(last)}; ` +
        `log tail: ${JSON.stringify(service.logs.slice(-8))}`,
    );
  }
}

describe('/healthz: a replica that cannot make progress is reported, a dependency outage is not (SPEC §8)', () => {
  it('turns red while a customer lock held in Postgres stalls a partition, and green once it is released', async () => {
    const fixture = await startPipelineFixture({ partitions: 1 });
    const service = await fixture.newService(LIVENESS_ENV).start();
    await fixture.publish([anUpdateRequest().withExternalId('warm-up').build()]);
    await waitFor(
      'the first event to be applied',
      async () => (await fixture.processedCount()) === 1,
    );
    await waitForAnswer(service, '/healthz', '/healthz to be ok', ({ status }) => status === 200);

    // Another session holds the advisory lock that the batch transaction takes for this
    // customer (src/persistence/customer-lock.ts): the database answers, the partition waits.
    const locker = postgres(fixture.databaseUrl, { max: 1, onnotice: () => {} });
    registerCleanup(() => locker.end({ timeout: 5 }));
    const lockKey = locker`hashtextextended(jsonb_build_array(${'tenant-a'}::text, ${'stuck-1'}::text)::text, 0)`;
    await locker`select pg_advisory_lock(${lockKey})`;
    await fixture.publish([anUpdateRequest().withExternalId('stuck-1').build()]);

    // A stalled fetch loop (not_polling) shows first; the waiting partition (not_committing)
    // once a lag sample has seen its message.
    const stuck = await waitForAnswer(
      service,
      '/healthz',
      '/healthz to report the stalled partition',
      ({ status, body }) =>
        status === 503 &&
        (body as { problems: Array<{ reason: string }> }).problems.some(
          ({ reason }) => reason === 'not_committing',
        ),
    );
    const stalled = (
      stuck.body as { problems: Array<{ reason: string; partition?: number; lag?: number }> }
    ).problems.find(({ reason }) => reason === 'not_committing');
    assert.deepEqual(
      { partition: stalled?.partition, lag: stalled?.lag },
      { partition: 0, lag: 1 },
    );
    const ready = await service.http('/readyz');
    assert.equal(ready.status, 200, `readiness stays green: ${JSON.stringify(ready.body)}`);
    const metrics = String((await service.http('/metrics')).body);
    assert.match(metrics, /^customer_sync_live 0$/m);
    assert.match(metrics, /^customer_sync_consumer_lag_messages\{[^}]*partition="0"\} 1$/m);

    await locker`select pg_advisory_unlock(${lockKey})`;
    await waitFor(
      'the stalled event to be applied',
      async () => (await fixture.processedCount()) === 2,
    );
    await waitForAnswer(
      service,
      '/healthz',
      '/healthz to be ok again',
      ({ status }) => status === 200,
    );
  });

  it('keeps /healthz green and turns /readyz red while the broker is down', async () => {
    // A broker of this test's own, so that taking it away disturbs no other test.
    const kafka = await startLocalKafka();
    registerCleanup(() => kafka.stop());
    const service = await new ServiceProcess({
      databaseUrl: await createTestDatabase(),
      topics: {
        updateRequested: uniqueName('in'),
        customerUpdated: uniqueName('out'),
        deadLetter: uniqueName('dlq'),
      },
      env: { ...LIVENESS_ENV, KAFKA_BROKERS: kafka.brokers, KAFKA_CREATE_TOPICS: 'true' },
    }).start();
    await waitForAnswer(service, '/readyz', '/readyz to be ready', ({ status }) => status === 200);
    await waitForAnswer(service, '/healthz', '/healthz to be ok', ({ status }) => status === 200);

    await kafka.stop();
    const notReady = await waitForAnswer(
      service,
      '/readyz',
      '/readyz to report the broker',
      ({ status }) => status === 503,
    );
    assert.equal((notReady.body as { checks: Record<string, boolean> }).checks.broker, false);

    // Liveness must hold for several times its timeout while the broker stays away.
    const until = Date.now() + 3 * Number(LIVENESS_ENV.LIVENESS_PROGRESS_TIMEOUT_MS);
    while (Date.now() < until) {
      const health = await service.http('/healthz');
      assert.equal(
        health.status,
        200,
        `liveness during the outage: ${JSON.stringify(health.body)}`,
      );
      assert.equal(service.hasExited(), false, 'the service rides the outage out');
      await delay(250);
    }
  });
});
