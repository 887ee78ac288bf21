import { CustomerSyncError } from '../errors.ts';

/**
 * The one retry policy: exponential backoff with full jitter, capped (SPEC §4.5). Not
 * cockatiel's retry and timeout: the consumer pauses its partition and heartbeats while it
 * waits, and every wait ends at shutdown (cockatiel's retry delay cannot be cut short); an
 * enrichment job's attempt count is stored with the job, so the delay is a function of it, not
 * the next step of a backoff iterator; and cockatiel's aggressive timeout aborts the attempt
 * with a bare AbortError, where here its signal carries the retryable `attempt.timed_out`.
 */

/** The bounds of the backoff: the first retry's ceiling, and the ceiling it doubles up to. */
export interface BackoffSettings {
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * Delay before retry number `attempt` (0-based): a random point in [0, min(max, initial·2^n)],
 * so replicas that failed together do not retry together.
 */
export function backoffDelayMs(
  attempt: number,
  settings: BackoffSettings,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(
    settings.maxDelayMs,
    settings.initialDelayMs * 2 ** Math.min(attempt, 30),
  );
  return Math.max(1, Math.round(ceiling * random()));
}

/** Sleeps, waking early when the signal aborts; never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Starts a timer that calls `onExpiry` after `ms`; returns what cancels it. */
export type StartTimer = (ms: number, onExpiry: () => void) => () => void;

const startNodeTimer: StartTimer = (ms, onExpiry) => {
  const timer = setTimeout(onExpiry, ms);
  return () => clearTimeout(timer);
};

/** The failure an attempt that outlived its deadline ends in: transient, so it is retried. */
export const ATTEMPT_TIMED_OUT = 'attempt.timed_out';

/**
 * Runs one attempt with a deadline. An attempt that has not settled by then is abandoned: its
 * signal aborts with a retryable `attempt.timed_out` failure, and so does the returned promise,
 * whatever the attempt is still waiting on. The attempt keeps running until it notices the
 * signal (or what it waits on settles); how late it settles is nobody's concern any more.
 */
export async function withDeadline<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  startTimer: StartTimer = startNodeTimer,
): Promise<T> {
  const abandon = new AbortController();
  let cancelTimer: () => void = () => {};
  const expired = new Promise<never>((_, reject) => {
    cancelTimer = startTimer(timeoutMs, () => {
      const failure = new CustomerSyncError(
        ATTEMPT_TIMED_OUT,
        `the attempt did not settle within ${timeoutMs} ms and was abandoned`,
        { canRetry: true },
      );
      abandon.abort(failure);
      reject(failure);
    });
  });
  try {
    // The race keeps listening to an abandoned attempt, so its late failure is not unhandled.
    return await Promise.race([attempt(abandon.signal), expired]);
  } finally {
    cancelTimer();
  }
}
