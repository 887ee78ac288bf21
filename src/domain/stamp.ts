/**
 * A last-writer-wins timestamp: the pair (occurredAt, eventId) folded into one string whose
 * lexicographic order is the pair's order (SPEC §4.3). occurredAt is the fixed-width UTC form
 * `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`, so plain string comparison is enough everywhere, in
 * TypeScript and in SQL alike.
 */
export type Stamp = string & { readonly __brand: 'Stamp' };

export function stampOf(normalisedOccurredAt: string, eventId: string): Stamp {
  return `${normalisedOccurredAt}|${eventId.toLowerCase()}` as Stamp;
}

/**
 * The stamp enrichment writes with: older than any event can be, so any event's value wins
 * over the lending system's, whichever arrives first (SPEC §6: enrichment never overwrites).
 */
export const ENRICHMENT_STAMP = '0000-00-00T00:00:00.000000000Z|enrichment' as Stamp;

export function compareStamps(a: Stamp, b: Stamp): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What a stamp says about the write that left it (`explain`): an event, or enrichment. */
export type StampOrigin =
  | { kind: 'event'; eventId: string; occurredAt: string }
  | { kind: 'enrichment' };

export function stampOrigin(stamp: Stamp): StampOrigin {
  if (stamp === ENRICHMENT_STAMP) return { kind: 'enrichment' };
  const separator = stamp.indexOf('|');
  return {
    kind: 'event',
    occurredAt: stamp.slice(0, separator),
    eventId: stamp.slice(separator + 1),
  };
}
