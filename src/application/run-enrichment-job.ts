import type { CustomerUpdated } from '../contracts/customer-updated.ts';
import { customerUpdatedEvent } from '../contracts/customer-updated-event.ts';
import { ENRICHMENT_FAILURE_CODES } from '../contracts/error-codes.ts';
import { type CustomerKey, customerKeyId } from '../domain/customer-key.ts';
import type { ChangedField } from '../domain/customer-record.ts';
import { isSelected, type LoanSelection } from '../domain/enrichment-request.ts';
import { fillMissingFields } from '../domain/fill-missing-fields.ts';
import type { UpdateBatchTransaction } from './apply-update-batch.ts';
import {
  type CustomerLookup,
  type LendingLoan,
  type LendingSystem,
  LendingSystemError,
  type LendingTargets,
} from './lending-system.ts';

/** A claimed enrichment job: what to ask the lending system, and the claim that allows it. */
export interface EnrichmentJob extends CustomerKey {
  id: number;
  fillFields: boolean;
  loans: LoanSelection;
  loanReferenceId?: string;
  /** the eventId of the latest request merged into the job */
  causationId: string;
  /** the job's revision when claimed; a request merged in since makes the job run again */
  revision: number;
  /** attempts so far, this one included */
  attempts: number;
  /** proves the claim: every write of the job checks it, so a worker that lost it writes nothing */
  leaseToken: string;
  /** the tenant's own lending-system URL (tenants.lending_api_url), overriding the default */
  tenantLendingApiUrl?: string;
}

/** How a job's run ends in the job table. A merged-in request turns any of them into a re-run. */
export type JobFinish =
  | {
      state: 'succeeded';
      changedFields: ChangedField[];
      loansImported: number;
    }
  | { state: 'no_data' }
  | { state: 'failed'; reason: string };

/** The database work of applying one job's findings, all in one transaction (SPEC §4.6, §6). */
export interface EnrichmentTransaction
  extends Pick<
    UpdateBatchTransaction,
    'lockCustomers' | 'loadCustomers' | 'saveCustomers' | 'appendToOutbox'
  > {
  /**
   * locks the job row; false if this claim no longer holds it (its lease expired, re-claimed).
   * Taken after the customer's lock, never before it (the one lock order, SPEC §4.5).
   */
  holdsClaim(job: EnrichmentJob): Promise<boolean>;
  /**
   * Upserts the returned loans for the customer and marks those of the selection it no longer
   * returned as missing (never deletes them). Returns how many loans it stored.
   */
  importLoans(key: CustomerKey, loans: LendingLoan[], selection: LoanSelection): Promise<number>;
  /** ends the claim; 'rerun' when a request was merged in after the claim */
  finishJob(job: EnrichmentJob, finish: JobFinish): Promise<'finished' | 'rerun'>;
}

export interface EnrichmentStore {
  inTransaction<T>(work: (transaction: EnrichmentTransaction) => Promise<T>): Promise<T>;
}

/** The job queue as the worker uses it (implemented by persistence/enrichment-job-store.ts). */
export interface EnrichmentQueue extends EnrichmentStore {
  claim(limit: number, leaseMs: number, blockedTenants: string[]): Promise<EnrichmentJob[]>;
  extendLease(job: EnrichmentJob, leaseMs: number): Promise<boolean>;
  reschedule(
    job: EnrichmentJob,
    delayMs: number,
    errorCode: string,
    deadlineMs: number,
  ): Promise<'pending' | 'failed' | 'claim_lost'>;
  fail(job: EnrichmentJob, errorCode: string): Promise<'finished' | 'rerun' | 'claim_lost'>;
  release(job: EnrichmentJob, delayMs?: number): Promise<void>;
  failOverdue(deadlineMs: number): Promise<number>;
  queueStats(): Promise<{ pending: number; running: number; oldestAgeSeconds: number }>;
}

export type EnrichmentJobResult =
  | {
      kind: 'succeeded';
      changedFields: ChangedField[];
      loansImported: number;
      /** fields the lending system sent that broke their rule and were dropped */
      rejectedFields: string[];
      rerun: boolean;
    }
  | { kind: 'no_data'; rerun: boolean }
  /** another worker holds the job now (this one was too slow, or presumed dead) */
  | { kind: 'claim_lost' };

export interface EnrichmentDependencies {
  lending: LendingSystem;
  store: EnrichmentStore;
  /** the tenant's lending system and its credential */
  targets: LendingTargets;
  /** aborts the lending-system calls (shutdown, or the claim was lost) */
  signal?: AbortSignal;
  now?: () => Date;
}

/**
 * SPEC §6: asks the tenant's lending system for the customer (by loanReferenceId when the
 * request gave one, else by externalId) and their loans, then, in one transaction under the
 * customer's lock, fills the fields that are still empty, imports the selected loans, and
 * announces the change as a customer.updated with reason "enrichment". A lending system
 * without the customer is "no data": the job ends, nothing is invented. Failures are thrown
 * (LendingSystemError says whether a retry can help); scheduling retries is the worker's job.
 */
export async function runEnrichmentJob(
  job: EnrichmentJob,
  dependencies: EnrichmentDependencies,
): Promise<EnrichmentJobResult> {
  const { lending, store, signal } = dependencies;
  const now = dependencies.now ?? (() => new Date());
  const target = dependencies.targets.targetFor(job.tenantId, job.tenantLendingApiUrl);
  const lookup: CustomerLookup =
    job.loanReferenceId !== undefined
      ? { by: 'loanReference', loanReferenceId: job.loanReferenceId }
      : { by: 'externalId', externalId: job.externalId };

  const found = await lending.findCustomer(target, lookup, signal);
  if (found === undefined) {
    return store.inTransaction(async (transaction) => {
      if (!(await transaction.holdsClaim(job))) return { kind: 'claim_lost' } as const;
      const ended = await transaction.finishJob(job, { state: 'no_data' });
      return { kind: 'no_data', rerun: ended === 'rerun' } as const;
    });
  }
  if (found.externalId !== job.externalId) {
    // Filling one person's record with another's data is the one thing enrichment must not do.
    throw new LendingSystemError(
      ENRICHMENT_FAILURE_CODES.customerMismatch,
      'the loan reference belongs to another customer of the lending system',
      { canRetry: false },
    );
  }
  const loans = (await lending.listLoans(target, found.externalId, signal)).filter((loan) =>
    isSelected(job.loans, loan.id),
  );

  return store.inTransaction(async (transaction) => {
    const key: CustomerKey = { tenantId: job.tenantId, externalId: job.externalId };
    // One lock order everywhere, the customer first: the batch apply holds the customer's lock
    // when it merges a request into this job's row, so taking the row first could deadlock.
    await transaction.lockCustomers([key]);
    if (!(await transaction.holdsClaim(job))) return { kind: 'claim_lost' } as const;
    const stored = (await transaction.loadCustomers([key])).get(customerKeyId(key));

    let changedFields: ChangedField[] = [];
    if (stored !== undefined && job.fillFields) {
      const filled = fillMissingFields(stored.record, found.values);
      changedFields = filled.changedFields;
      if (changedFields.length > 0) {
        const appliedAt = now().toISOString();
        const after = { ...stored, record: filled.record, updatedAt: appliedAt };
        await transaction.saveCustomers([after]);
        const announcement: CustomerUpdated = customerUpdatedEvent({
          customer: after,
          causationId: job.causationId,
          reason: 'enrichment',
          changedFields,
          occurredAt: appliedAt,
          // The version names this change: a re-run of the same job announces a new change
          // under a new id, and a retry of an uncommitted attempt under the same one.
          discriminator: `version-${after.record.version}`,
        });
        await transaction.appendToOutbox([announcement]);
      }
    }
    const loansImported = await transaction.importLoans(key, loans, job.loans);
    const ended = await transaction.finishJob(job, {
      state: 'succeeded',
      changedFields,
      loansImported,
    });
    return {
      kind: 'succeeded',
      changedFields,
      loansImported,
      rejectedFields: found.rejectedFields,
      rerun: ended === 'rerun',
    } as const;
  });
}
