import { PATTERNS } from '../domain/customer-field-rules.ts';
import type { RangeBound } from '../messaging/kafka/topic-range.ts';
import { UsageError } from './usage-error.ts';

/** RFC 3339 with an explicit offset, or a plain date (midnight UTC). */
const RFC_3339 =
  /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2}))?$/;
const OFFSET = /^\d{1,19}$/;

/** A point in time as operators write it; a UsageError naming the option otherwise. */
export function parseTime(text: string, option: string): Date {
  const at = RFC_3339.test(text) ? new Date(text.length === 10 ? `${text}T00:00:00Z` : text) : null;
  if (at === null || Number.isNaN(at.getTime())) {
    throw new UsageError(
      `${option} must be an RFC 3339 time such as 2026-03-01T09:30:00Z (or a date, 2026-03-01)`,
    );
  }
  return at;
}

/** `--from` / `--to`: an offset, an RFC 3339 time, or `earliest` / `latest`. */
export function parseRangeBound(text: string, option: string): RangeBound {
  if (text === 'earliest') return { kind: 'earliest' };
  if (text === 'latest') return { kind: 'latest' };
  if (OFFSET.test(text)) return { kind: 'offset', offset: BigInt(text) };
  if (/^-?\d+$/.test(text)) throw new UsageError(`${option} offset must be 0 or more`);
  try {
    return { kind: 'time', at: parseTime(text, option) };
  } catch {
    throw new UsageError(
      `${option} must be an offset, 'earliest', 'latest' or an RFC 3339 time such as 2026-03-01T09:30:00Z`,
    );
  }
}

/** A range whose ends are of the same kind must not end before it starts. */
export function checkRangeOrder(from: RangeBound, to: RangeBound | undefined): void {
  if (to === undefined) return;
  const backwards =
    (from.kind === 'offset' && to.kind === 'offset' && to.offset < from.offset) ||
    (from.kind === 'time' && to.kind === 'time' && to.at < from.at) ||
    (from.kind === 'latest' && to.kind === 'earliest');
  if (backwards) throw new UsageError('--to must not be before --from');
}

/** `--partition 0,2,5`: distinct partition numbers. */
export function parsePartitions(text: string): number[] {
  const parts = text.split(',').map((part) => part.trim());
  if (parts.some((part) => !/^\d{1,5}$/.test(part))) {
    throw new UsageError('--partition must be partition numbers separated by commas, e.g. 0,2');
  }
  return [...new Set(parts.map(Number))].sort((a, b) => a - b);
}

/** A whole number option within bounds, e.g. `--limit 20`. */
export function parseCount(text: string, option: string, min: number, max: number): number {
  const value = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isNaN(value) || value < min || value > max) {
    throw new UsageError(`${option} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** SPEC §3: a tenantId as events carry it. */
export function parseTenantId(text: string, option = '--tenant'): string {
  if (!PATTERNS.tenantId.test(text))
    throw new UsageError(`${option} must be a tenant id: 1..64 of A-Z a-z 0-9 . _ -`);
  return text;
}

/** SPEC §3: an externalId as events carry it. */
export function parseExternalId(text: string, option = '--external-id'): string {
  if (!PATTERNS.externalId.test(text))
    throw new UsageError(`${option} must be an external id: 1..128 of A-Z a-z 0-9 . _ : -`);
  return text;
}
