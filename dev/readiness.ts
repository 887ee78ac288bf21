import { setTimeout as sleep } from 'node:timers/promises';
import { DevstackError, type DevstackErrorCode } from './devstack-error.ts';
import { describeExit, type OwnedProcess } from './owned-process.ts';

export type ReadinessCheck<T> = {
  /** Names the service in the error, e.g. 'Kafka broker'. */
  what: string;
  failureCode: DevstackErrorCode;
  process: OwnedProcess;
  /** Resolves once the service really serves requests; must time out on its own. */
  probe: () => Promise<T>;
  deadlineMs: number;
  intervalMs?: number;
};

/**
 * Polls `probe` until it succeeds. Fails fast when the process dies and otherwise at the
 * deadline, either way with the end of the service's log, which is where the reason is.
 */
export async function waitUntilReady<T>(check: ReadinessCheck<T>): Promise<T> {
  const deadline = Date.now() + check.deadlineMs;
  let lastProblem = 'not checked yet';
  for (;;) {
    const exit = check.process.exitStatus();
    if (exit !== undefined)
      throw readinessFailure(check, `${describeExit(exit)} before it was ready`);
    if (Date.now() > deadline) {
      const seconds = Math.round(check.deadlineMs / 1000);
      throw readinessFailure(
        check,
        `was not ready after ${seconds} s (last check: ${lastProblem})`,
      );
    }
    try {
      return await check.probe();
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    await Promise.race([sleep(check.intervalMs ?? 250), check.process.exited]);
  }
}

function readinessFailure<T>(check: ReadinessCheck<T>, reason: string): DevstackError {
  return new DevstackError(
    check.failureCode,
    `${check.what} ${reason}. Last lines of ${check.process.logFile}:\n${check.process.logTail()}`,
  );
}
