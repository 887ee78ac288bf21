import { sql } from 'drizzle-orm';
import type { Sql } from 'postgres';
import type {
  EnrichmentJob,
  EnrichmentTransaction,
  JobFinish,
} from '../application/run-enrichment-job.ts';
import { ENRICHMENT_FAILURE_CODES } from '../contracts/error-codes.ts';
import type { LoanSelection } from '../domain/enrichment-request.ts';
import { isoTimestamp } from './customer-rows.ts';
import type { Database, DatabaseTransaction } from './database.ts';
import { ENRICHMENT_CHANNEL } from './enqueue-enrichment-jobs.ts';
import { transactionOf } from './update-batch-store.ts';

export type EnrichmentJobState = 'pending' | 'running' | 'succeeded' | 'failed' | 'no_data';
export const ENRICHMENT_JOB_STATES: readonly EnrichmentJobState[] = [
  'pending',
  'running',
  'succeeded',
  'failed',
  'no_data',
];

/** A job as `customer-sync enrichment list` shows it. */
export interface EnrichmentJobRow {
  id: number;
  tenantId: string;
  externalId: string;
  state: EnrichmentJobState;
  fillFields: boolean;
  loans: LoanSelection;
  loanReferenceId: string | null;
  attempts: number;
  lastErrorCode: string | null;
  failureReason: string | null;
  changedFields: string[] | null;
  loansImported: number | null;
  createdAt: string;
  requestedAt: string;
  nextAttemptAt: string;
  finishedAt: string | null;
}

export interface QueueStats {
  pending: number;
  running: number;
  /** age of the oldest unfinished job, 0 when there is none */
  oldestAgeSeconds: number;
}

const interval = (ms: number) => sql`(${ms}::float8 * interval '1 millisecond')`;
const jsonList = (values: readonly unknown[]) => sql`${JSON.stringify(values)}::jsonb`;

type ClaimedRow = {
  id: string;
  tenant_id: string;
  external_id: string;
  fill_fields: boolean;
  loan_ids: number[] | null;
  loan_reference_id: string | null;
  causation_id: string;
  revision: number;
  attempts: number;
  lease_token: string;
  lending_api_url: string | null;
};

/**
 * The durable enrichment queue (SPEC §6) in plain SQL. A worker's claim is a lease: a token and
 * an expiry it keeps pushing forward while it works. Every write a worker makes checks the
 * token, so a worker that lost its claim (presumed dead, its lease expired and another worker
 * took the job) changes nothing. A `running` job whose lease expired is claimable again: that is
 * how the job of a worker killed mid-job is picked up.
 */
export function createEnrichmentJobStore(db: Database, client: Sql) {
  const store = {
    /** runs `work` in one transaction (the EnrichmentStore port) */
    inTransaction<T>(work: (transaction: EnrichmentTransaction) => Promise<T>): Promise<T> {
      return db.transaction((tx) => work(enrichmentTransactionOf(tx)));
    },

    /**
     * Claims up to `limit` due jobs with FOR UPDATE SKIP LOCKED: pending ones whose time has
     * come and running ones whose lease expired. Jobs of `blockedTenants` (open breakers) stay.
     */
    async claim(
      limit: number,
      leaseMs: number,
      blockedTenants: string[],
    ): Promise<EnrichmentJob[]> {
      if (limit <= 0) return [];
      const rows = await db.execute<ClaimedRow>(sql`
        with due as (
          select id from enrichment_jobs
          where ((state = 'pending' and next_attempt_at <= now())
                 or (state = 'running' and lease_expires_at <= now()))
            and tenant_id not in (select jsonb_array_elements_text(${jsonList(blockedTenants)}))
          order by next_attempt_at, id
          limit ${limit}
          for update skip locked
        )
        update enrichment_jobs j set
          state = 'running', attempts = j.attempts + 1, lease_token = gen_random_uuid(),
          lease_expires_at = now() + ${interval(leaseMs)}, updated_at = now()
        from due where j.id = due.id
        returning j.id::text as id, j.tenant_id, j.external_id, j.fill_fields,
          to_jsonb(j.loan_ids) as loan_ids, j.loan_reference_id, j.causation_id::text,
          j.revision, j.attempts, j.lease_token::text,
          (select t.lending_api_url from tenants t where t.tenant_id = j.tenant_id)
            as lending_api_url`);
      return rows.map((row) => ({
        id: Number(row.id),
        tenantId: row.tenant_id,
        externalId: row.external_id,
        fillFields: row.fill_fields,
        loans: row.loan_ids ?? 'all',
        ...(row.loan_reference_id !== null ? { loanReferenceId: row.loan_reference_id } : {}),
        causationId: row.causation_id,
        revision: row.revision,
        attempts: row.attempts,
        leaseToken: row.lease_token,
        ...(row.lending_api_url !== null ? { tenantLendingApiUrl: row.lending_api_url } : {}),
      }));
    },

    /** pushes the lease forward; false when the claim is no longer this worker's */
    async extendLease(job: EnrichmentJob, leaseMs: number): Promise<boolean> {
      const rows = await db.execute(sql`
        update enrichment_jobs set lease_expires_at = now() + ${interval(leaseMs)}
        where id = ${job.id} and lease_token = ${job.leaseToken}::uuid and state = 'running'
        returning id`);
      return rows.length === 1;
    },

    /**
     * After a transient failure: back to pending, due after `delayMs`; or failed with
     * enrichment.deadline_exceeded if that is past the deadline (requested_at + deadlineMs).
     */
    async reschedule(
      job: EnrichmentJob,
      delayMs: number,
      errorCode: string,
      deadlineMs: number,
    ): Promise<'pending' | 'failed' | 'claim_lost'> {
      const overdue = sql`now() + ${interval(delayMs)} > requested_at + ${interval(deadlineMs)}`;
      const rows = await db.execute<{ state: 'pending' | 'failed' }>(sql`
        update enrichment_jobs set
          state = case when ${overdue} then 'failed' else 'pending' end,
          failure_reason = case when ${overdue} then ${ENRICHMENT_FAILURE_CODES.deadlineExceeded} end,
          finished_at = case when ${overdue} then now() end,
          next_attempt_at = now() + ${interval(delayMs)},
          last_error_code = ${errorCode},
          lease_token = null, lease_expires_at = null, updated_at = now()
        where id = ${job.id} and lease_token = ${job.leaseToken}::uuid and state = 'running'
        returning state`);
      return rows[0]?.state ?? 'claim_lost';
    },

    /** After a failure no retry can help: failed, unless a request merged in since the claim. */
    async fail(
      job: EnrichmentJob,
      errorCode: string,
    ): Promise<'finished' | 'rerun' | 'claim_lost'> {
      return db.transaction(async (tx) => {
        const rows = await tx.execute(sql`
          select id from enrichment_jobs
          where id = ${job.id} and lease_token = ${job.leaseToken}::uuid and state = 'running'
          for update`);
        if (rows.length === 0) return 'claim_lost' as const;
        return finishJob(tx, job, { state: 'failed', reason: errorCode });
      });
    },

    /** Gives the claim back without counting the attempt (shutdown, or its breaker is open). */
    async release(job: EnrichmentJob, delayMs = 0): Promise<void> {
      await db.execute(sql`
        update enrichment_jobs set
          state = 'pending', attempts = greatest(attempts - 1, 0),
          next_attempt_at = now() + ${interval(delayMs)},
          lease_token = null, lease_expires_at = null, updated_at = now()
        where id = ${job.id} and lease_token = ${job.leaseToken}::uuid and state = 'running'`);
    },

    /**
     * Fails the unfinished jobs whose deadline passed while no worker could try them (their
     * tenant's breaker stayed open, or no worker ran). Returns how many.
     */
    async failOverdue(deadlineMs: number): Promise<number> {
      // SKIP LOCKED: a job whose row a batch is merging a request into right now (it holds the
      // row and its customer's lock) is not overdue any more; waiting for it, in whatever order
      // the rows come, could deadlock with a batch that locks several jobs.
      const rows = await db.execute(sql`
        with overdue as (
          select id from enrichment_jobs
          where (state = 'pending' or (state = 'running' and lease_expires_at <= now()))
            and requested_at + ${interval(deadlineMs)} < now()
          for update skip locked
        )
        update enrichment_jobs j set
          state = 'failed', failure_reason = ${ENRICHMENT_FAILURE_CODES.deadlineExceeded},
          finished_at = now(), lease_token = null, lease_expires_at = null, updated_at = now()
        from overdue where j.id = overdue.id
        returning j.id`);
      return rows.length;
    },

    async queueStats(): Promise<QueueStats> {
      const [row] = await db.execute<{ pending: number; running: number; oldest: number | null }>(
        sql`
          select count(*) filter (where state = 'pending')::int as pending,
                 count(*) filter (where state = 'running')::int as running,
                 extract(epoch from now() - min(created_at))::float8 as oldest
          from enrichment_jobs where state in ('pending', 'running')`,
      );
      return {
        pending: row?.pending ?? 0,
        running: row?.running ?? 0,
        oldestAgeSeconds: row?.oldest ?? 0,
      };
    },

    /** calls `onJob` whenever any replica enqueues or re-queues a job; resolves to unsubscribe */
    async listen(onJob: () => void): Promise<() => Promise<void>> {
      const subscription = await client.listen(ENRICHMENT_CHANNEL, () => onJob());
      return () => subscription.unlisten();
    },

    /** newest first */
    async list(filter: {
      states?: readonly EnrichmentJobState[];
      tenantId?: string;
      limit: number;
    }): Promise<EnrichmentJobRow[]> {
      // `order by enrichment_jobs.id`, not `id`: a bare name in ORDER BY means the output
      // column, id::text, and text order would list job 10 after job 9 (and `limit` would keep
      // the wrong jobs). requeue() below orders the same way for the same reason.
      const rows = await db.execute<Record<string, unknown>>(sql`
        select id::text, tenant_id, external_id, state, fill_fields,
          to_jsonb(loan_ids) as loan_ids, loan_reference_id, attempts, last_error_code,
          failure_reason, changed_fields, loans_imported,
          ${isoTimestamp('created_at')} as created_at,
          ${isoTimestamp('requested_at')} as requested_at,
          ${isoTimestamp('next_attempt_at')} as next_attempt_at,
          ${isoTimestamp('finished_at')} as finished_at
        from enrichment_jobs
        where (${filter.states === undefined}::boolean
               or state in (select jsonb_array_elements_text(${jsonList(filter.states ?? [])})))
          and (${filter.tenantId ?? null}::text is null or tenant_id = ${filter.tenantId ?? null})
        order by enrichment_jobs.id desc
        limit ${filter.limit}`);
      return rows.map((row) => ({
        id: Number(row.id),
        tenantId: row.tenant_id as string,
        externalId: row.external_id as string,
        state: row.state as EnrichmentJobState,
        fillFields: row.fill_fields as boolean,
        loans: (row.loan_ids as number[] | null) ?? 'all',
        loanReferenceId: row.loan_reference_id as string | null,
        attempts: row.attempts as number,
        lastErrorCode: row.last_error_code as string | null,
        failureReason: row.failure_reason as string | null,
        changedFields: row.changed_fields as string[] | null,
        loansImported: row.loans_imported as number | null,
        createdAt: row.created_at as string,
        requestedAt: row.requested_at as string,
        nextAttemptAt: row.next_attempt_at as string,
        finishedAt: row.finished_at as string | null,
      }));
    },

    /**
     * Puts finished jobs back in the queue (`customer-sync enrichment retry`): attempts reset,
     * the deadline restarted. Only the latest matching job of each customer, and only for
     * customers without an active job (that one will ask the lending system anyway).
     */
    async requeue(filter: {
      ids?: readonly number[];
      states: readonly EnrichmentJobState[];
      tenantId?: string;
    }): Promise<{ requeued: number[]; skipped: number[] }> {
      return db.transaction(async (tx) => {
        const matching = sql`
          state in (select jsonb_array_elements_text(${jsonList(filter.states)}))
          and (${filter.ids === undefined}::boolean
               or id in (select jsonb_array_elements_text(${jsonList(filter.ids ?? [])})::bigint))
          and (${filter.tenantId ?? null}::text is null or tenant_id = ${filter.tenantId ?? null})`;
        const candidates = await tx.execute<{ id: string }>(sql`
          select id::text from enrichment_jobs where ${matching}
          order by enrichment_jobs.id for update`);
        const requeued = await tx.execute<{ id: string }>(sql`
          update enrichment_jobs j set
            state = 'pending', attempts = 0, next_attempt_at = now(), requested_at = now(),
            failure_reason = null, finished_at = null, updated_at = now()
          where ${matching}
            and j.id = (select max(f.id) from enrichment_jobs f
                        where f.tenant_id = j.tenant_id and f.external_id = j.external_id
                          and f.state in (select jsonb_array_elements_text(${jsonList(filter.states)})))
            and not exists (select 1 from enrichment_jobs a
                            where a.tenant_id = j.tenant_id and a.external_id = j.external_id
                              and a.state in ('pending', 'running'))
          returning j.id::text`);
        if (requeued.length > 0) await tx.execute(sql`select pg_notify(${ENRICHMENT_CHANNEL}, '')`);
        const done = new Set(requeued.map((row) => Number(row.id)));
        const all = candidates.map((row) => Number(row.id));
        return {
          requeued: all.filter((id) => done.has(id)),
          skipped: all.filter((id) => !done.has(id)),
        };
      });
    },
  };
  return store;
}

/** The apply transaction of one job's findings (the EnrichmentTransaction port). */
function enrichmentTransactionOf(tx: DatabaseTransaction): EnrichmentTransaction {
  const customers = transactionOf(tx);
  return {
    lockCustomers: customers.lockCustomers,
    loadCustomers: customers.loadCustomers,
    saveCustomers: customers.saveCustomers,
    appendToOutbox: customers.appendToOutbox,

    async holdsClaim(job) {
      const rows = await tx.execute<{ id: string }>(sql`
        select id::text from enrichment_jobs
        where id = ${job.id} and lease_token = ${job.leaseToken}::uuid and state = 'running'
        for update`);
      return rows.length === 1;
    },

    async importLoans(key, loans, selection) {
      if (loans.length > 0) {
        const rows = loans.map((loan) => ({
          loan_id: loan.id,
          reference: loan.reference,
          status: loan.status,
          principal: loan.principal,
          balance: loan.balance,
          currency: loan.currency,
          opened_on: loan.openedOn,
          closed_on: loan.closedOn,
          days_past_due: loan.daysPastDue,
        }));
        // updated_at moves only when something changed, so it says when the loan last did.
        await tx.execute(sql`
          insert into loans (tenant_id, loan_id, external_id, reference, status, principal,
            balance, currency, opened_on, closed_on, days_past_due)
          select ${key.tenantId}, loan_id, ${key.externalId}, reference, status, principal,
            balance, currency, opened_on, closed_on, days_past_due
          from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(loan_id bigint,
            reference text, status text, principal numeric, balance numeric, currency text,
            opened_on date, closed_on date, days_past_due integer)
          on conflict (tenant_id, loan_id) do update set
            external_id = excluded.external_id, reference = excluded.reference,
            status = excluded.status, principal = excluded.principal,
            balance = excluded.balance, currency = excluded.currency,
            opened_on = excluded.opened_on, closed_on = excluded.closed_on,
            days_past_due = excluded.days_past_due, missing_since = null, updated_at = now()
          where (loans.external_id, loans.reference, loans.status, loans.principal,
              loans.balance, loans.currency, loans.opened_on, loans.closed_on,
              loans.days_past_due, loans.missing_since)
            is distinct from (excluded.external_id, excluded.reference, excluded.status,
              excluded.principal, excluded.balance, excluded.currency, excluded.opened_on,
              excluded.closed_on, excluded.days_past_due, null::timestamptz)`);
      }
      // SPEC §6: a loan the lending system no longer returns is marked, never deleted.
      await tx.execute(sql`
        update loans set missing_since = now(), updated_at = now()
        where tenant_id = ${key.tenantId} and external_id = ${key.externalId}
          and missing_since is null
          and loan_id not in (
            select jsonb_array_elements_text(${jsonList(loans.map((loan) => loan.id))})::bigint)
          and (${selection === 'all'}::boolean or loan_id in (
            select jsonb_array_elements_text(${jsonList(selection === 'all' ? [] : selection)})::bigint))`);
      return loans.length;
    },

    async finishJob(job, finish) {
      return finishJob(tx, job, finish);
    },
  };
}

/**
 * Ends a claim. If a request was merged in after the claim (the revision moved on), the job
 * goes back to pending, due now, with fresh attempts: its latest request has not been served.
 */
async function finishJob(
  tx: DatabaseTransaction,
  job: EnrichmentJob,
  finish: JobFinish,
): Promise<'finished' | 'rerun'> {
  const unchanged = sql`revision = ${job.revision}`;
  const reason = finish.state === 'failed' ? finish.reason : null;
  const changedFields =
    finish.state === 'succeeded'
      ? sql`array(select jsonb_array_elements_text(${jsonList(finish.changedFields)}))`
      : sql`null`;
  const loansImported = finish.state === 'succeeded' ? finish.loansImported : null;
  const rows = await tx.execute<{ state: string }>(sql`
    update enrichment_jobs set
      state = case when ${unchanged} then ${finish.state} else 'pending' end,
      attempts = case when ${unchanged} then attempts else 0 end,
      failure_reason = case when ${unchanged} then ${reason}::text end,
      last_error_code = coalesce(${reason}::text, last_error_code),
      changed_fields = ${changedFields},
      loans_imported = ${loansImported}::int,
      finished_at = case when ${unchanged} then now() end,
      next_attempt_at = now(),
      lease_token = null, lease_expires_at = null, updated_at = now()
    where id = ${job.id} and lease_token = ${job.leaseToken}::uuid
    returning state`);
  return rows[0]?.state === 'pending' ? 'rerun' : 'finished';
}
