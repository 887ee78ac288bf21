import {
  type BreakerSettings,
  type BreakerState,
  type CircuitBreaker,
  createTenantCircuitBreakers,
} from '../application/circuit-breaker.ts';
import {
  isAvailabilityFailure,
  type LendingSystem,
  LendingSystemError,
  type LendingTargets,
} from '../application/lending-system.ts';
import { type BackoffSettings, backoffDelayMs, sleep } from '../application/retry-policy.ts';
import {
  type EnrichmentJob,
  type EnrichmentQueue,
  runEnrichmentJob,
} from '../application/run-enrichment-job.ts';
import { createWakeUpCall } from '../application/wake-up-call.ts';
import { ENRICHMENT_FAILURE_CODES } from '../contracts/error-codes.ts';
import { CustomerSyncError, canRetry } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { countDatabaseConflict, countRetry, type Metrics } from '../observability/metrics.ts';

export interface EnrichmentWorkerOptions {
  queue: EnrichmentQueue;
  lending: LendingSystem;
  /** each tenant's lending system and credential */
  targets: LendingTargets;
  /** jobs this process works on at once (ENRICHMENT_CONCURRENCY) */
  concurrency: number;
  pollIntervalMs: number;
  /** how long a claim lasts without being renewed; renewed every third of it */
  leaseMs: number;
  /** a job that has not succeeded this long after its latest request fails */
  deadlineMs: number;
  retry: BackoffSettings;
  breaker: BreakerSettings;
  metrics: Metrics;
  logger: Logger;
  now?: () => number;
  random?: () => number;
}

export interface EnrichmentWorker {
  start(): void;
  /** a job was enqueued: look for work now */
  wake(): void;
  /**
   * Stops claiming, lets the jobs in flight finish until `deadline` (epoch ms), then cuts their
   * lending-system calls short and gives their claims back, so another replica takes them.
   */
  stop(deadline: number): Promise<void>;
}

/** Metric values of the breaker states: 0 closed, 1 half-open, 2 open. */
const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };
const QUEUE_SAMPLE_INTERVAL_MS = 5_000;
/** The code stored for a failure that is not the lending system's (the database, a bug). */
const APPLY_FAILED = 'enrichment.apply_failed';

/**
 * Runs enrichment jobs (SPEC §6) inside the service process, beside the Kafka consumer and
 * independent of it: the partition never waits for a lending system. Claims due jobs up to its
 * concurrency, keeps each claim alive while it works, runs the job through the circuit breaker
 * of the job's tenant, and on failure either schedules a retry (backoff with jitter, never
 * sooner than a 429's Retry-After) or fails the job with its reason. The loop and each job's
 * failure handling must never throw: every failure is logged, counted, and left to the lease.
 */
export function createEnrichmentWorker(options: EnrichmentWorkerOptions): EnrichmentWorker {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const log = options.logger.child({ component: 'enrichment-worker' });
  const { metrics, queue } = options;
  const breakers = createTenantCircuitBreakers(options.breaker, now, onBreakerTransition);
  const inFlight = new Set<Promise<void>>();
  const hardStop = new AbortController();
  const { wake, idle } = createWakeUpCall();
  let running = false;
  let loop: Promise<void> | undefined;
  let sampler: NodeJS.Timeout | undefined;

  function onBreakerTransition(tenantId: string, from: BreakerState, to: BreakerState) {
    metrics.enrichmentBreakerState.set({ tenant: tenantId }, BREAKER_STATE_VALUE[to]);
    metrics.enrichmentBreakerTransitions.inc({ tenant: tenantId, to });
    const message =
      to === 'open'
        ? 'lending-system circuit opened'
        : to === 'half-open'
          ? 'lending-system circuit half-open: trying one call'
          : 'lending-system circuit closed';
    (to === 'open' ? log.warn.bind(log) : log.info.bind(log))({ tenantId, from, to }, message);
  }

  /** The lending system as seen through the tenant's breaker: every answer is recorded. */
  function throughBreaker(breaker: CircuitBreaker): LendingSystem {
    async function record<T>(call: () => Promise<T>): Promise<T> {
      try {
        const result = await call();
        breaker.recordSuccess();
        return result;
      } catch (error) {
        if (
          error instanceof LendingSystemError &&
          error.code === ENRICHMENT_FAILURE_CODES.rateLimited
        ) {
          breaker.recordRateLimited(error.retryAfterMs ?? options.breaker.openDurationMs);
        } else if (isAvailabilityFailure(error)) {
          breaker.recordFailure();
        } else if (!isAborted(error)) {
          // It answered, if not to our liking (401, a malformed body): it is up.
          breaker.recordSuccess();
        }
        throw error;
      }
    }
    return {
      findCustomer: (target, lookup, signal) =>
        record(() => options.lending.findCustomer(target, lookup, signal)),
      listLoans: (target, externalId, signal) =>
        record(() => options.lending.listLoans(target, externalId, signal)),
    };
  }

  async function runOne(job: EnrichmentJob): Promise<void> {
    const jobLog = log.child({ jobId: job.id, tenantId: job.tenantId, attempt: job.attempts });
    const breaker = breakers.forTenant(job.tenantId);
    if (!breaker.tryAcquire()) {
      // Claimed just as its tenant's breaker opened (or another job took the trial call).
      await queue.release(job, breaker.retryInMs()).catch(() => {});
      return;
    }
    const claimLost = new AbortController();
    const signal = AbortSignal.any([claimLost.signal, hardStop.signal]);
    const heartbeat = setInterval(
      () => {
        queue
          .extendLease(job, options.leaseMs)
          .then((held) => {
            if (!held) claimLost.abort();
          })
          .catch(() => {}); // the database being down: the lease runs out, the job is re-claimed
      },
      Math.max(1, Math.floor(options.leaseMs / 3)),
    );
    try {
      const result = await runEnrichmentJob(job, {
        lending: throughBreaker(breaker),
        store: queue,
        signal,
        targets: options.targets,
      });
      if (result.kind === 'claim_lost') {
        jobLog.warn('enrichment job was claimed by another worker; its result was dropped');
        return;
      }
      metrics.enrichmentJobs.inc({ outcome: result.kind });
      if (result.kind === 'succeeded') {
        for (const field of result.rejectedFields) metrics.enrichmentRejectedFields.inc({ field });
        jobLog.info(
          {
            changedFields: result.changedFields,
            loansImported: result.loansImported,
            rejectedFields: result.rejectedFields,
            rerun: result.rerun,
          },
          'enrichment job succeeded',
        );
      } else {
        jobLog.info({ rerun: result.rerun }, 'enrichment job found no data');
      }
    } catch (error) {
      await handleFailure(job, error, jobLog);
    } finally {
      clearInterval(heartbeat);
      breaker.abandon();
    }
  }

  /** Must never throw. */
  async function handleFailure(job: EnrichmentJob, error: unknown, jobLog: Logger) {
    try {
      if (isAborted(error)) {
        if (hardStop.signal.aborted) {
          await queue.release(job);
          metrics.enrichmentJobs.inc({ outcome: 'released' });
          jobLog.info('enrichment job handed back at shutdown');
        }
        // Otherwise the claim was lost: the worker that holds it now owns the job.
        return;
      }
      const code = error instanceof CustomerSyncError ? error.code : APPLY_FAILED;
      if (canRetry(error)) {
        countDatabaseConflict(metrics, 'enrichment', error);
        const retryAfterMs = error instanceof LendingSystemError ? error.retryAfterMs : undefined;
        const delayMs = Math.max(
          backoffDelayMs(job.attempts - 1, options.retry, random),
          retryAfterMs ?? 0,
        );
        const state = await queue.reschedule(job, delayMs, code, options.deadlineMs);
        if (state === 'claim_lost') return;
        metrics.enrichmentJobs.inc({ outcome: state === 'failed' ? 'failed' : 'retried' });
        if (state === 'failed') {
          jobLog.warn(
            { code, reason: ENRICHMENT_FAILURE_CODES.deadlineExceeded },
            'enrichment job failed',
          );
        } else {
          jobLog.info({ code, delayMs, failure: error }, 'enrichment attempt failed; will retry');
        }
        return;
      }
      const ended = await queue.fail(job, code);
      if (ended === 'claim_lost') return;
      metrics.enrichmentJobs.inc({ outcome: ended === 'rerun' ? 'retried' : 'failed' });
      jobLog.warn({ code, failure: error, rerun: ended === 'rerun' }, 'enrichment job failed');
    } catch (recording) {
      // Could not even record the failure: the lease runs out and the job is claimed again.
      jobLog.error({ failure: recording }, 'could not record an enrichment failure');
    }
  }

  function track(job: EnrichmentJob) {
    const work = runOne(job).catch((error: unknown) => {
      log.error({ jobId: job.id, failure: error }, 'enrichment job crashed');
    });
    inFlight.add(work);
    void work.finally(() => {
      inFlight.delete(work);
      wake(); // a slot is free
    });
  }

  async function run() {
    let failures = 0;
    let nextSweepAt = 0;
    while (running) {
      let claimedAll = false;
      try {
        if (now() >= nextSweepAt) {
          nextSweepAt = now() + options.pollIntervalMs;
          const overdue = await queue.failOverdue(options.deadlineMs);
          if (overdue > 0) {
            metrics.enrichmentJobs.inc({ outcome: 'failed' }, overdue);
            log.warn(
              { count: overdue, reason: ENRICHMENT_FAILURE_CODES.deadlineExceeded },
              'enrichment jobs failed',
            );
          }
        }
        const free = options.concurrency - inFlight.size;
        if (free > 0) {
          const jobs = await queue.claim(free, options.leaseMs, breakers.blockedTenants());
          for (const job of jobs) track(job);
          claimedAll = jobs.length === free;
        }
        failures = 0;
      } catch (error) {
        countRetry(metrics, 'enrichment_claim', error);
        log.warn({ failure: error }, 'could not claim enrichment jobs; retrying');
        await idle(backoffDelayMs(failures++, options.retry, random));
        continue;
      }
      // A full claim may have left more due jobs: look again at once if a slot is free (a job
      // finishing wakes the loop too).
      if (!claimedAll || inFlight.size >= options.concurrency) await idle(options.pollIntervalMs);
    }
  }

  function sampleQueue() {
    queue
      .queueStats()
      .then(({ pending, running: active, oldestAgeSeconds }) => {
        metrics.enrichmentQueueDepth.set({ state: 'pending' }, pending);
        metrics.enrichmentQueueDepth.set({ state: 'running' }, active);
        metrics.enrichmentOldestJobAge.set(oldestAgeSeconds);
      })
      .catch(() => {}); // the database being down is reported by /readyz and the retry metrics
  }

  return {
    start() {
      if (running) return;
      running = true;
      sampleQueue();
      sampler = setInterval(sampleQueue, QUEUE_SAMPLE_INTERVAL_MS);
      sampler.unref();
      loop = run();
    },
    wake,
    async stop(deadline) {
      running = false;
      clearInterval(sampler);
      wake();
      await loop;
      const remaining = deadline - now();
      if (inFlight.size > 0 && remaining > 0) {
        await Promise.race([Promise.allSettled([...inFlight]), sleep(remaining)]);
      }
      if (inFlight.size > 0) {
        log.info({ jobs: inFlight.size }, 'cutting enrichment jobs short for shutdown');
        hardStop.abort();
        await Promise.allSettled([...inFlight]);
      }
    },
  };
}

function isAborted(error: unknown): boolean {
  return error instanceof LendingSystemError && error.code === ENRICHMENT_FAILURE_CODES.aborted;
}
