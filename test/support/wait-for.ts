import { setTimeout as delay } from 'node:timers/promises';
import { describeTestState } from './diagnostics.ts';

/**
 * Polls until `probe` returns something other than undefined/false, or fails after the
 * deadline with the description, the last value or error seen, and the state of every live
 * fixture (diagnostics.ts): tests wait for facts, never sleep, and say what they saw.
 */
export async function waitFor<T>(
  description: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let lastError: unknown;
  let lastValue: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      lastValue = value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const last = lastError
        ? `last error: ${String(lastError)}`
        : `last answer: ${String(lastValue)}`;
      throw new Error(
        `timed out after ${options.timeoutMs ?? 30_000} ms waiting for ${description} (${last})${describeTestState()}`,
      );
    }
    await delay(options.intervalMs ?? 100);
  }
}
