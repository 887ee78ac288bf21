/** Retry-After waits longer than this are capped: the job's deadline is the real limit. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * The wait a `Retry-After` header asks for (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
 * Undefined when absent or unreadable; never negative; capped at an hour.
 */
export function parseRetryAfterMs(
  header: string | null | undefined,
  nowMs: number,
): number | undefined {
  if (header === null || header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  // An HTTP-date always names its weekday and GMT; Date.parse reads the IMF-fixdate form.
  if (!/GMT$/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - nowMs), MAX_RETRY_AFTER_MS);
}
