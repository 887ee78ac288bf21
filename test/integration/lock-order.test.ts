/**
 * SPEC §4.5 and §6 against a real Postgres: the batch apply and the enrichment worker take the
 * same two locks (the customer's advisory lock and the customer's active enrichment job row);
 * taken in one order everywhere (customer first), they can wait for each other but never
 * deadlock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyUpdateBatch } from '../../src/application/apply-update-batch.ts';
import {
  type EnrichmentStore,
  type EnrichmentTransaction,
  runEnrichmentJob,
} from '../../src/application/run-enrichment-job.ts';
import { parseCustomerUpdateRequested } from '../../src/contracts/customer-update-requested.ts';
import { createLendingSystemClient } from '../../src/enrichment/lending-system-client.ts';
import { createLendingTargets } from '../../src/enrichment/lending-targets.ts';
import { describeFailure } from '../../src/errors.ts';
import { connectDatabase } from '../../src/persistence/database.ts';
import { createEnrichmentJobStore } from '../../src/persistence/enrichment-job-store.ts';
import { createTenantRepository } from '../../src/persistence/tenant-repository.ts';
import { createUpdateBatchStore } from '../../src/persistence/update-batch-store.ts';
import { registerCleanup } from '../support/cleanup.ts';
import { startTestLendingSimulator } from '../support/lending-simulator-fixture.ts';
import { createTestDatabase, testSql } from '../support/test-environment.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';
import { waitFor } from '../support/wait-for.ts';

const CONSUMER_APPLICATION = 'lock-order-test-consumer';

function enrichRequest(externalId: string, data: Record<string, unknown>) {
  const result = parseCustomerUpdateRequested(
    anUpdateRequest()
      .withExternalId(externalId)
      .withData({ ...data, enrich: true })
      .build(),
  );
  assert.ok(result.ok);
  return result.request;
}

/** A promise with its resolve, for pausing a transaction at a chosen point. */
function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

describe('one lock order everywhere: the customer first', () => {
  it('lets a batch apply and an enrichment job of the same customer both commit, never deadlock', async () => {
    const url = await createTestDatabase();
    const sql = testSql(url);
    const lending = await startTestLendingSimulator();
    const worker = connectDatabase(url, { poolMax: 2, applicationName: 'lock-order-test-worker' });
    const consumer = connectDatabase(url, { poolMax: 2, applicationName: CONSUMER_APPLICATION });
    registerCleanup(() => worker.close());
    registerCleanup(() => consumer.close());
    await createTenantRepository(worker.db).save({
      tenantId: 'tenant-a',
      taskTypes: ['collections'],
    });
    const batches = createUpdateBatchStore(consumer.db);
    const queue = createEnrichmentJobStore(worker.db, worker.sql);

    // The customer exists and has an active enrichment job, which a worker claims.
    await applyUpdateBatch(batches, [enrichRequest('c-1', { lastName: 'Lee' })]);
    const [job] = await queue.claim(1, 60_000, []);
    assert.ok(job, 'the job was claimable');

    // The worker's transaction stops right after it took its first lock, until the consumer
    // is waiting for a lock too: the interleaving in which opposite orders deadlock.
    const firstLockHeld = gate();
    const goOn = gate();
    const gated: EnrichmentStore = {
      inTransaction: (work) =>
        queue.inTransaction((transaction) => {
          let paused = false;
          async function afterLock<T>(taken: Promise<T>): Promise<T> {
            const result = await taken;
            if (!paused) {
              paused = true;
              firstLockHeld.open();
              await goOn.opened;
            }
            return result;
          }
          const watched: EnrichmentTransaction = {
            ...transaction,
            holdsClaim: (claimed) => afterLock(transaction.holdsClaim(claimed)),
            lockCustomers: (keys) => afterLock(transaction.lockCustomers(keys)),
          };
          return work(watched);
        }),
    };
    const enrichment = runEnrichmentJob(job, {
      lending: createLendingSystemClient({ timeoutMs: 5_000 }),
      // The simulator is a local http:// server, as in the other tests.
      targets: createLendingTargets({
        defaultUrl: lending.url,
        tenantTokens: new Map(),
        allowInsecureHttp: true,
      }),
      store: gated,
    });
    await firstLockHeld.opened;

    // Meanwhile a batch of the same customer asks for enrichment again.
    // isTest: a field enrichment never fills, so this change is the batch's own whatever the
    // lending system said.
    const second = enrichRequest('c-1', { isTest: true });
    const batch = applyUpdateBatch(batches, [second]);
    await waitFor('the batch transaction to wait for a lock the worker holds', async () => {
      const [row] = await sql<{ waiting: number }[]>`
        select count(*)::int as waiting from pg_stat_activity
        where application_name = ${CONSUMER_APPLICATION} and wait_event_type = 'Lock'`;
      return (row?.waiting ?? 0) > 0;
    });
    goOn.open();

    const [enriched, applied] = await Promise.allSettled([enrichment, batch]);
    // The SQLSTATE and the server's message (the cause of drizzle's "Failed query").
    const failure = (result: PromiseSettledResult<unknown>) => {
      if (result.status !== 'rejected') return undefined;
      const cause = (result.reason as { cause?: unknown }).cause ?? result.reason;
      return `${describeFailure(result.reason).code ?? 'no code'}: ${String(cause)}`;
    };
    assert.equal(enriched.status, 'fulfilled', `the enrichment job failed: ${failure(enriched)}`);
    assert.equal(applied.status, 'fulfilled', `the batch failed: ${failure(applied)}`);
    assert.equal(enriched.value.kind, 'succeeded');
    assert.deepEqual(
      applied.value.outcomes.map((outcome) => outcome.kind),
      ['applied'],
    );
    // The batch waited for the job's transaction, so its request is a job of its own, due
    // now: nothing it asked for is lost (SPEC §6).
    const jobs = await sql<{ state: string; causation_id: string }[]>`
      select state, causation_id::text from enrichment_jobs where external_id = 'c-1' order by id`;
    assert.deepEqual(
      jobs.map((row) => [row.state, row.causation_id]),
      [
        ['succeeded', job.causationId],
        ['pending', second.eventId],
      ],
    );
  });
});
