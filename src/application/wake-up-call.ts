/**
 * A loop's pause that others can cut short: `idle(ms)` waits up to `ms` and returns early on
 * `wake()`. A wake that comes while the loop is busy is kept, so the next `idle` returns at once
 * and the loop looks again rather than missing what it was woken for.
 *
 * The outbox relay is woken after every committed chunk (twice: by the consumer and by the
 * commit's NOTIFY). An AbortController per wake built a DOMException with its stack on every
 * `abort()`, called or not, 1.7 % of the service's busy time at 1,000 events/s
 * (docs/performance.md); this builds nothing.
 */
export interface WakeUpCall {
  wake(): void;
  idle(ms: number): Promise<void>;
}

export function createWakeUpCall(): WakeUpCall {
  let woken = false;
  let waiting: (() => void) | undefined;
  return {
    wake() {
      if (waiting) waiting();
      else woken = true;
    },
    idle(ms) {
      if (woken) {
        woken = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          waiting = undefined;
          resolve();
        }
        waiting = done;
      });
    },
  };
}
