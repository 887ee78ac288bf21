import { after } from 'node:test';
import { silenceKafkajsTimeoutWarning } from '../../src/cli/silence-kafkajs-timeout-warning.ts';

silenceKafkajsTimeoutWarning();

const cleanups: Array<() => Promise<unknown> | unknown> = [];

// Registered once, at import time, on the file's root: it runs when the whole file is done,
// wherever registerCleanup was called from (a test, a before hook, a helper).
after(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (error) {
      console.error(`cleanup failed: ${String(error)}`);
    }
  }
});

/** Runs `cleanup` when the test file ends, last registered first. */
export function registerCleanup(cleanup: () => Promise<unknown> | unknown): void {
  cleanups.push(cleanup);
}
