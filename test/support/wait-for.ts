import { setTimeout as delay } from 'node:timers/promises';

/**
 * Polls until `probe` returns something other than undefined/false, or fails after the
 * deadline with the description and the last value seen: tests wait for facts, never sleep.
 */
export async function waitFor<T>(
  description: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${description}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await delay(options.intervalMs ?? 100);
  }
}
