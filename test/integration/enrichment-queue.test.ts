/**
 * The durable enrichment queue (SPEC §6) against a real Postgres: enqueueing in the batch
 * transaction, per-customer deduplication, claims with SKIP LOCKED, leases, deadlines, and the
 * loans import. The worker and the lending system are left out: these are the rules the rows
 * follow, whoever drives them.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { applyUpdateBatch } from '../../src/application/apply-update-batch.ts';
import type { EnrichmentJob } from '../../src/application/run-enrichment-job.ts';
import {
  type CustomerUpdateRequest,
  parseCustomerUpdateRequested,
} from '../../src/contracts/customer-update-requested.ts';
import type { LendingLoan } from '../../src/contracts/lending-system.ts';
import { connectDatabase } from '../../src/persistence/database.ts';
import { createEnrichmentJobStore } from '../../src/persistence/enrichment-job-store.ts';
import { createTenantRepository } from '../../src/persistence/tenant-repository.ts';
import { createUpdateBatchStore } from '../../src/persistence/update-batch-store.ts';
import { registerCleanup } from '../support/cleanup.ts';
import { createTestDatabase, testSql } from '../support/test-environment.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';

function request(
  externalId: string,
  data: Record<string, unknown>,
  tenantId = 'tenant-a',
): CustomerUpdateRequest {
  const result = parseCustomerUpdateRequested(
    anUpdateRequest().withTenant(tenantId).withExternalId(externalId).withData(data).build(),
  );
  assert.ok(result.ok);
  return result.request;
}

function aLoan(id: number, status = 'open'): LendingLoan {
  return {
    id,
    reference: `R-${id}`,
    status,
    principal: '1000.00',
    balance: '500.25',
    currency: 'USD',
    openedOn: '2024-01-15',
    closedOn: null,
    daysPastDue: 0,
  };
}

describe('the enrichment queue in Postgres (SPEC §6)', () => {
  let sql: ReturnType<typeof testSql>;
  let queue: ReturnType<typeof createEnrichmentJobStore>;
  let batches: ReturnType<typeof createUpdateBatchStore>;

  before(async () => {
    const url = await createTestDatabase();
    sql = testSql(url);
    const database = connectDatabase(url, { poolMax: 6 });
    registerCleanup(() => database.close());
    const tenants = createTenantRepository(database.db);
    // tenant-listing keeps the listing test's jobs apart from the other tests' jobs.
    for (const tenantId of ['tenant-a', 'tenant-listing'])
      await tenants.save({ tenantId, taskTypes: ['collections'] });
    queue = createEnrichmentJobStore(database.db, database.sql);
    batches = createUpdateBatchStore(database.db);
  });

  const jobsOf = (externalId: string) =>
    sql`select id::int, state, fill_fields, loan_ids::int[] as loan_ids, loan_reference_id,
          causation_id::text, revision, attempts, failure_reason, last_error_code
        from enrichment_jobs where external_id = ${externalId} order by id`;

  async function claimOnly(externalId: string, leaseMs = 60_000): Promise<EnrichmentJob> {
    // Other tests' jobs are claimed too; give them back untouched.
    const claimed = await queue.claim(100, leaseMs, []);
    const mine = claimed.find((job) => job.externalId === externalId);
    for (const other of claimed) if (other !== mine) await queue.release(other);
    assert.ok(mine, `a job for ${externalId} was claimable`);
    return mine;
  }

  it('enqueues a job in the batch transaction only for requests that ask for one', async () => {
    await applyUpdateBatch(batches, [
      request('q-plain', { firstName: 'Ann' }),
      request('q-enrich', { enrich: true }),
    ]);
    assert.equal((await jobsOf('q-plain')).length, 0);
    const [job] = await jobsOf('q-enrich');
    assert.equal(job?.state, 'pending');
    assert.equal(job?.fill_fields, true);
    assert.equal(job?.loan_ids, null);
  });

  it('folds requests of one customer into its pending job, in a batch and across batches', async () => {
    const first = request('q-merge', { loanIds: [5, 3] });
    const second = request('q-merge', { loanIds: [4], loanReferenceId: 'REF-1' });
    await applyUpdateBatch(batches, [first, second]);
    let [job] = await jobsOf('q-merge');
    assert.deepEqual(job?.loan_ids, [3, 4, 5]);
    assert.equal(job?.fill_fields, false);
    assert.equal(job?.causation_id, second.eventId);
    assert.equal(job?.revision, 0);

    const third = request('q-merge', { enrich: true, loanIds: [9] });
    await applyUpdateBatch(batches, [third]);
    const jobs = await jobsOf('q-merge');
    assert.equal(jobs.length, 1, 'still one job');
    [job] = jobs;
    assert.deepEqual(job?.loan_ids, [3, 4, 5, 9]);
    assert.equal(job?.fill_fields, true);
    assert.equal(job?.loan_reference_id, 'REF-1', 'a later request without a reference keeps it');
    assert.equal(job?.causation_id, third.eventId);
    assert.equal(job?.revision, 1);

    await applyUpdateBatch(batches, [request('q-merge', { enrich: true })]);
    [job] = await jobsOf('q-merge');
    assert.equal(job?.loan_ids, null, 'a request for every loan asks for every loan');
  });

  it('enqueues nothing for a duplicate or rejected request', async () => {
    const enrich = request('q-dup', { enrich: true });
    await applyUpdateBatch(batches, [enrich]);
    const claimed = await claimOnly('q-dup');
    await queue.fail(claimed, 'lending.rejected');
    await applyUpdateBatch(batches, [
      enrich,
      request('q-dup', { enrich: true, taskType: 'sales' }),
    ]);
    assert.deepEqual(
      (await jobsOf('q-dup')).map((job) => job.state),
      ['failed'],
    );
  });

  it('hands each due job to one claimant only (FOR UPDATE SKIP LOCKED)', async () => {
    await applyUpdateBatch(
      batches,
      Array.from({ length: 10 }, (_, index) => request(`q-skip-${index}`, { enrich: true })),
    );
    const claims = await Promise.all(Array.from({ length: 5 }, () => queue.claim(4, 60_000, [])));
    const ids = claims.flat().map((job) => job.id);
    assert.equal(new Set(ids).size, ids.length, 'no job claimed twice');
    for (const job of claims.flat()) await queue.release(job);
  });

  it('leaves the jobs of a tenant whose breaker is open where they are', async () => {
    await applyUpdateBatch(batches, [request('q-blocked', { enrich: true })]);
    const claimed = await queue.claim(100, 60_000, ['tenant-a']);
    assert.equal(claimed.length, 0);
  });

  it('lets another worker take a running job whose lease expired; the first worker then changes nothing', async () => {
    await applyUpdateBatch(batches, [request('q-lease', { enrich: true })]);
    const first = await claimOnly('q-lease', 1_000);
    await sql`update enrichment_jobs set lease_expires_at = now() - interval '1 second' where id = ${first.id}`;
    const second = await claimOnly('q-lease');
    assert.equal(second.id, first.id);
    assert.equal(second.attempts, 2);
    assert.notEqual(second.leaseToken, first.leaseToken);
    assert.equal(await queue.extendLease(first, 60_000), false);
    assert.equal(await queue.reschedule(first, 0, 'lending.timeout', 60_000), 'claim_lost');
    assert.equal(await queue.fail(first, 'lending.rejected'), 'claim_lost');
    assert.equal(await queue.inTransaction((transaction) => transaction.holdsClaim(first)), false);
    assert.equal(await queue.extendLease(second, 60_000), true);
    await queue.release(second);
  });

  it('runs a job again when a request merged in while it was running', async () => {
    await applyUpdateBatch(batches, [request('q-rerun', { loanIds: [1] })]);
    const claimed = await claimOnly('q-rerun');
    await applyUpdateBatch(batches, [request('q-rerun', { loanIds: [2] })]);
    const ended = await queue.inTransaction((transaction) =>
      transaction.finishJob(claimed, { state: 'succeeded', changedFields: [], loansImported: 1 }),
    );
    assert.equal(ended, 'rerun');
    const [job] = await jobsOf('q-rerun');
    assert.equal(job?.state, 'pending');
    assert.equal(job?.attempts, 0);
    assert.deepEqual(job?.loan_ids, [1, 2]);
  });

  it('backs off after a transient failure, and fails the job once the deadline would pass', async () => {
    await applyUpdateBatch(batches, [request('q-deadline', { enrich: true })]);
    let claimed = await claimOnly('q-deadline');
    assert.equal(await queue.reschedule(claimed, 0, 'lending.timeout', 60_000), 'pending');
    let [job] = await jobsOf('q-deadline');
    assert.equal(job?.last_error_code, 'lending.timeout');
    claimed = await claimOnly('q-deadline');
    assert.equal(await queue.reschedule(claimed, 120_000, 'lending.unavailable', 60_000), 'failed');
    [job] = await jobsOf('q-deadline');
    assert.equal(job?.state, 'failed');
    assert.equal(job?.failure_reason, 'enrichment.deadline_exceeded');
    assert.equal(job?.last_error_code, 'lending.unavailable');
  });

  it('fails jobs that waited past their deadline without a worker trying them', async () => {
    await applyUpdateBatch(batches, [request('q-overdue', { enrich: true })]);
    await sql`update enrichment_jobs set requested_at = now() - interval '2 hours'
              where external_id = 'q-overdue'`;
    assert.ok((await queue.failOverdue(3_600_000)) >= 1);
    const [job] = await jobsOf('q-overdue');
    assert.equal(job?.state, 'failed');
    assert.equal(job?.failure_reason, 'enrichment.deadline_exceeded');
  });

  it('imports loans, marks those no longer returned as missing, and clears the mark when they return', async () => {
    const key = { tenantId: 'tenant-a', externalId: 'q-loans' };
    const loansOf = async () => [
      ...(await sql`select loan_id::int, status, principal::text, balance::text, opened_on::text,
            missing_since is not null as missing
          from loans where external_id = ${key.externalId} order by loan_id`),
    ];
    const importLoans = (loans: LendingLoan[], selection: 'all' | number[]) =>
      queue.inTransaction((transaction) => transaction.importLoans(key, loans, selection));

    await importLoans([aLoan(101), aLoan(102), aLoan(103)], 'all');
    assert.deepEqual(await loansOf(), [
      {
        loan_id: 101,
        status: 'open',
        principal: '1000.00',
        balance: '500.25',
        opened_on: '2024-01-15',
        missing: false,
      },
      {
        loan_id: 102,
        status: 'open',
        principal: '1000.00',
        balance: '500.25',
        opened_on: '2024-01-15',
        missing: false,
      },
      {
        loan_id: 103,
        status: 'open',
        principal: '1000.00',
        balance: '500.25',
        opened_on: '2024-01-15',
        missing: false,
      },
    ]);

    // Only loan 102 was asked for and it is gone: only it is marked.
    await importLoans([], [102]);
    assert.deepEqual(
      (await loansOf()).map((loan) => [loan.loan_id, loan.missing]),
      [
        [101, false],
        [102, true],
        [103, false],
      ],
    );

    // A full import without 101: marked; 102 is back: unmarked and updated.
    await importLoans([aLoan(102, 'closed'), aLoan(103)], 'all');
    assert.deepEqual(
      (await loansOf()).map((loan) => [loan.loan_id, loan.status, loan.missing]),
      [
        [101, 'open', true],
        [102, 'closed', false],
        [103, 'open', false],
      ],
    );
  });

  it('re-queues failed jobs for an operator, one per customer, none beside an active job', async () => {
    for (const externalId of ['q-requeue-1', 'q-requeue-2']) {
      await applyUpdateBatch(batches, [request(externalId, { enrich: true })]);
      await queue.fail(await claimOnly(externalId), 'lending.unauthorized');
    }
    await applyUpdateBatch(batches, [request('q-requeue-2', { enrich: true })]); // active again
    const { requeued, skipped } = await queue.requeue({ states: ['failed'] });
    const [one] = await jobsOf('q-requeue-1');
    const two = await jobsOf('q-requeue-2');
    assert.ok(requeued.includes(one?.id as number));
    assert.ok(skipped.includes(two[0]?.id as number));
    assert.equal(one?.state, 'pending');
    assert.equal(one?.attempts, 0);
    assert.equal(one?.failure_reason, null);
    assert.deepEqual(
      two.map((job) => job.state),
      ['failed', 'pending'],
    );
  });

  it('lists and re-queues jobs in number order, so job 1000 comes after job 999', async () => {
    // Ids that cross a power of ten, where text order ('1000' < '999') and number order differ.
    await sql`select setval(pg_get_serial_sequence('enrichment_jobs', 'id'),
                greatest(994, (select max(id) from enrichment_jobs)))`;
    await applyUpdateBatch(
      batches,
      Array.from({ length: 12 }, (_, index) =>
        request(`q-list-${index}`, { enrich: true }, 'tenant-listing'),
      ),
    );
    const ids = (
      await sql`select id::int from enrichment_jobs where tenant_id = 'tenant-listing'`
    ).map((row) => row.id as number);
    assert.ok(ids.some((id) => id < 1000) && ids.some((id) => id >= 1000), 'the ids cross 1000');
    const newestFirst = [...ids].sort((a, b) => b - a);

    const listed = await queue.list({ tenantId: 'tenant-listing', limit: 100 });
    assert.deepEqual(
      listed.map((job) => job.id),
      newestFirst,
    );
    const newestThree = await queue.list({ tenantId: 'tenant-listing', limit: 3 });
    assert.deepEqual(
      newestThree.map((job) => job.id),
      newestFirst.slice(0, 3),
      'the limit keeps the newest jobs',
    );

    await sql`update enrichment_jobs set state = 'failed', finished_at = now()
              where tenant_id = 'tenant-listing'`;
    const { requeued } = await queue.requeue({ states: ['failed'], tenantId: 'tenant-listing' });
    assert.deepEqual(requeued, [...newestFirst].reverse());
  });
});
