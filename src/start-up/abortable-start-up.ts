import { CustomerSyncError } from '../errors.ts';

/** Stops one component that has started; `deadline` (epoch ms) is when the whole stop must end. */
type StopStarted = (deadline: number) => unknown;

/**
 * A start-up that a stop request (SIGTERM/SIGINT, SPEC §4.9) can cut short. Start-up can wait
 * a long time (Kafka not reachable yet, another replica migrating), so each step is awaited only
 * until the request comes; every component is registered as it starts, and a start-up that is
 * cut short, or fails, stops exactly what had started, last started first.
 */
export interface AbortableStartUp {
  /** `work`'s result, or a `service.start_aborted` error as soon as a stop is requested */
  step<T>(work: Promise<T>): Promise<T>;
  /** registers how to stop a component that has started */
  started(stop: StopStarted): void;
  /** stops what has started, last first; a component that fails to stop does not stop the rest */
  rollBack(deadline: number): Promise<void>;
}

export function createAbortableStartUp(signal?: AbortSignal): AbortableStartUp {
  const stops: StopStarted[] = [];
  const aborted = () =>
    new CustomerSyncError('service.start_aborted', 'a stop was requested during start-up', {
      canRetry: false,
    });
  return {
    async step(work) {
      // A step given up on may still fail later; that is expected, not an unhandled rejection.
      work.catch(() => {});
      if (signal === undefined) return work;
      if (signal.aborted) throw aborted();
      let onAbort = () => {};
      const abort = new Promise<never>((_, reject) => {
        onAbort = () => reject(aborted());
        signal.addEventListener('abort', onAbort, { once: true });
      });
      try {
        return await Promise.race([work, abort]);
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },
    started(stop) {
      stops.push(stop);
    },
    async rollBack(deadline) {
      for (const stop of stops.splice(0).reverse()) {
        // Half-started components fail to stop in many ways; stopping the others matters more.
        await Promise.resolve()
          .then(() => stop(deadline))
          .catch(() => {});
      }
    },
  };
}
