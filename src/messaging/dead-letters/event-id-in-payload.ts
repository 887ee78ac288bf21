/** Larger payloads are not parsed for their eventId: `explain` must stay bounded in memory. */
const MAX_PARSED_BYTES = 1_048_576;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The `eventId` a dead letter's original bytes carry, when they are a JSON object naming a
 * UUID: it ties the letter to the request's later fate (a redrive, processed_events). Anything
 * else (not JSON, registry wire format, too large) has none to offer. Only the id leaves here,
 * never a value (SPEC §8: no personal data on the screen without --reveal).
 */
export function eventIdInPayload(value: Buffer | null): string | undefined {
  if (value === null || value.length === 0 || value.length > MAX_PARSED_BYTES) return undefined;
  if (value[0] === 0) return undefined; // Confluent wire format, not JSON
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
  const eventId = (parsed as { eventId?: unknown } | null)?.eventId;
  return typeof eventId === 'string' && UUID.test(eventId) ? eventId.toLowerCase() : undefined;
}
