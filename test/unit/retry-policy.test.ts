import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ATTEMPT_TIMED_OUT,
  backoffDelayMs,
  withDeadline,
} from '../../src/application/retry-policy.ts';
import { CustomerSyncError, canRetry } from '../../src/errors.ts';

describe('the retry policy (SPEC §4.5)', () => {
  const settings = { initialDelayMs: 100, maxDelayMs: 5_000 };

  it('doubles the ceiling per attempt up to the maximum', () => {
    const ceiling = (attempt: number) => backoffDelayMs(attempt, settings, () => 1);
    assert.deepEqual(
      [0, 1, 2, 3, 6, 7, 50].map(ceiling),
      [100, 200, 400, 800, 5_000, 5_000, 5_000],
    );
  });

  it('spreads retries over the whole window (full jitter), never zero', () => {
    assert.equal(
      backoffDelayMs(3, settings, () => 0),
      1,
    );
    assert.equal(
      backoffDelayMs(3, settings, () => 0.5),
      400,
    );
  });
});

describe('the deadline of one attempt', () => {
  /** A timer the test fires by hand: no waiting, no real clock. */
  function manualTimer() {
    const timer = {
      startedWith: undefined as number | undefined,
      cancelled: false,
      expire: () => {},
      start: (ms: number, onExpiry: () => void) => {
        timer.startedWith = ms;
        timer.expire = onExpiry;
        return () => {
          timer.cancelled = true;
        };
      },
    };
    return timer;
  }

  it('returns what an attempt that settles in time returns, and stops its timer', async () => {
    const timer = manualTimer();
    assert.equal(await withDeadline(async () => 'applied', 60_000, timer.start), 'applied');
    assert.equal(timer.startedWith, 60_000);
    assert.equal(timer.cancelled, true);
  });

  it('passes on the failure of an attempt that fails in time', async () => {
    const timer = manualTimer();
    const failure = new Error('connection closed');
    await assert.rejects(
      withDeadline(() => Promise.reject(failure), 60_000, timer.start),
      failure,
    );
    assert.equal(timer.cancelled, true);
  });

  it('abandons an attempt that never settles: a retryable failure, and its signal aborts', async () => {
    const timer = manualTimer();
    let attemptSignal: AbortSignal | undefined;
    const outcome = withDeadline(
      (signal) => {
        attemptSignal = signal;
        return new Promise<never>(() => {}); // a reply the driver lost
      },
      60_000,
      timer.start,
    );
    assert.equal(attemptSignal?.aborted, false);
    timer.expire();
    await assert.rejects(outcome, (error: unknown) => {
      assert.ok(error instanceof CustomerSyncError);
      assert.equal(error.code, ATTEMPT_TIMED_OUT);
      assert.equal(canRetry(error), true);
      return true;
    });
    assert.equal(attemptSignal?.aborted, true);
    assert.equal(attemptSignal?.reason, await outcome.catch((error: unknown) => error));
  });

  it('ignores how an abandoned attempt ends later, success or failure', async () => {
    for (const lateEnd of ['resolve', 'reject'] as const) {
      const timer = manualTimer();
      let end: (() => void) | undefined;
      const outcome = withDeadline(
        () =>
          new Promise<string>((resolve, reject) => {
            end = lateEnd === 'resolve' ? () => resolve('late') : () => reject(new Error('late'));
          }),
        10,
        timer.start,
      );
      timer.expire();
      await assert.rejects(outcome, { code: ATTEMPT_TIMED_OUT });
      end?.(); // a late rejection must not surface as an unhandled rejection
      await new Promise((resolve) => setImmediate(resolve));
    }
  });
});
