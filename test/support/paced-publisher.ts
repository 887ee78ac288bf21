import { setTimeout as delay } from 'node:timers/promises';
import type { WireUpdateRequest } from './update-request-builder.ts';

export interface PacedPublishing {
  /** resolves when the whole stream is published; rejects if a send failed */
  done: Promise<void>;
  /** how many messages are published so far */
  published(): number;
}

/**
 * Publishes `stream` in slices of `sliceSize` with a pause between slices, so that a test can
 * crash, cut or rebalance the service while events are still arriving. The pause is the one
 * deliberate sleep in these tests: it shapes the load, nothing waits on it.
 */
export function publishPaced(
  publish: (requests: WireUpdateRequest[]) => Promise<void>,
  stream: readonly WireUpdateRequest[],
  options: { sliceSize: number; pauseMs: number },
): PacedPublishing {
  let published = 0;
  const done = (async () => {
    for (let start = 0; start < stream.length; start += options.sliceSize) {
      const slice = stream.slice(start, start + options.sliceSize);
      await publish(slice);
      published += slice.length;
      if (published < stream.length) await delay(options.pauseMs);
    }
  })();
  // Observed by whoever awaits `done`; this keeps an early failure from being "unhandled".
  done.catch(() => {});
  return { done, published: () => published };
}
