/**
 * The rules of the customer fields and identifiers of SPEC §3, and the normalisations applied
 * on the way in. Pure: the zod contract (`contracts/customer-update-requested.ts`) and the
 * lending-system client (SPEC §6: enriched data meets the same rules) both build on these.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { JsonObject } from './customer-fields.ts';
import { daysInMonth, OCCURRED_AT_PATTERN } from './occurred-at.ts';

export const LIMITS = {
  tenantIdChars: 64,
  externalIdChars: 128,
  sourceChars: 128,
  taskTypeChars: 64,
  nameChars: 100,
  addressChars: 200,
  emailChars: 254,
  timezoneChars: 64,
  phoneInputChars: 64,
  /** SPEC §3: metadata <= 16 KiB serialised (compact JSON, UTF-8 bytes). */
  metadataBytes: 16 * 1024,
  /** Deeper nesting than this is refused so Postgres' jsonb parser cannot hit its stack limit. */
  metadataDepth: 32,
  loanIds: 1000,
  loanReferenceIdChars: 128,
} as const;

/**
 * US state and territory codes accepted in `data.state` (SPEC §3): every code USPS delivers
 * to, since a state goes with an address and a ZIP code. That is the 50 states, DC, the
 * inhabited territories (AS, GU, MP, PR, VI), the freely associated states (FM, MH, PW) and
 * the military "states" (AA, AE, AP). UM is left out: no one has a postal address there.
 */
// biome-ignore format: one row per group of codes reads better than one code per line
export const US_STATE_CODES = [
  'AL', 'AK', 'AZ', 'AR', 'CA', 'CO', 'CT', 'DE', 'FL', 'GA', 'HI', 'ID', 'IL', 'IN', 'IA',
  'KS', 'KY', 'LA', 'ME', 'MD', 'MA', 'MI', 'MN', 'MS', 'MO', 'MT', 'NE', 'NV', 'NH', 'NJ',
  'NM', 'NY', 'NC', 'ND', 'OH', 'OK', 'OR', 'PA', 'RI', 'SC', 'SD', 'TN', 'TX', 'UT', 'VT',
  'VA', 'WA', 'WV', 'WI', 'WY',
  'DC',
  'AS', 'GU', 'MP', 'PR', 'VI',
  'FM', 'MH', 'PW',
  'AA', 'AE', 'AP',
] as const;
export type UsStateCode = (typeof US_STATE_CODES)[number];
const US_STATE_CODE_SET: ReadonlySet<string> = new Set(US_STATE_CODES);

/**
 * The regular expressions of the contract. The JSON Schema uses the same sources where it can
 * (the agreement test compares them), so a change here is a change there.
 */
export const PATTERNS = {
  /** Any UUID version, either case; the nil and max UUIDs are refused (a default, not an id). */
  uuid: /^(?!0{8}-0{4}-0{4}-0{4}-0{12}$)(?![Ff]{8}-[Ff]{4}-[Ff]{4}-[Ff]{4}-[Ff]{12}$)[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/,
  occurredAt: OCCURRED_AT_PATTERN,
  /** No ':' so that the Kafka key `<tenantId>:<externalId>` splits at its first ':' (SPEC §2). */
  tenantId: /^[A-Za-z0-9._-]{1,64}$/,
  externalId: /^[A-Za-z0-9._:-]{1,128}$/,
  /**
   * RFC 5322 dot-atom local part of at most 64 characters (no quoted strings), then a hostname
   * whose last label is letters or an IDN (`xn--`) label.
   */
  email:
    /^(?=[^@]{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?:[A-Za-z]{2,63}|[Xx][Nn]--[A-Za-z0-9-]{1,59})$/,
  birthday: /^(\d{4})-(\d{2})-(\d{2})$/,
  ssnLast4: /^\d{4}$/,
  /**
   * The shape of an IANA zone name (`Area/Location`, `UTC`, `Etc/GMT+5`, `EST5EDT`). Its first
   * character is a letter, which is what refuses offset strings like `+01:00` that newer V8
   * accepts as a time zone.
   */
  timezone: /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/,
  zip: /^\d{5}(?:-\d{4})?$/,
} as const;

/** C0/C1 control characters and unpaired surrogates: Postgres text cannot hold NUL or lone halves. */
export const CONTROL_OR_LONE_SURROGATE = /[\p{Cc}\p{Cs}]/u;

/* ----------------------------------------- normalisers ---------------------------------------- */

/** Each normaliser returns the stored form, or a PII-free reason (it names no input value). */

export type Normalised<T> = { ok: true; value: T } | { ok: false; reason: string };

function accepted<T>(value: T): Normalised<T> {
  return { ok: true, value };
}

function refused<T>(reason: string): Normalised<T> {
  return { ok: false, reason };
}

/** Characters as a person counts them (code points), which is also what JSON Schema counts. */
export function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/**
 * Free text that is not a customer field (taskType, source, loanReferenceId): 1..maxChars
 * characters, kept as sent, so surrounding whitespace and control characters are refused.
 */
export function isPlainText(text: string, maxChars: number): boolean {
  return (
    text.length > 0 &&
    characterCount(text) <= maxChars &&
    text.trim() === text &&
    !CONTROL_OR_LONE_SURROGATE.test(text)
  );
}

/** SPEC §3: names and address lines are trimmed; empty after trimming is not a value. */
export function normaliseTrimmedText(text: string, maxChars: number): Normalised<string> {
  const value = text.trim();
  if (value.length === 0) return refused('must not be empty or only whitespace');
  if (characterCount(value) > maxChars) {
    return refused(`must be at most ${maxChars} characters after trimming`);
  }
  if (CONTROL_OR_LONE_SURROGATE.test(value)) {
    return refused('must not contain control characters or unpaired surrogates');
  }
  return accepted(value);
}

/** SPEC §3: a valid address, <= 254 characters, stored with a lower-cased domain. */
export function normaliseEmail(text: string): Normalised<string> {
  if (text.length > LIMITS.emailChars) {
    return refused(`must be at most ${LIMITS.emailChars} characters`);
  }
  if (!PATTERNS.email.test(text)) return refused('must be a valid email address');
  const at = text.lastIndexOf('@');
  // The local part is case-sensitive in principle (RFC 5321 §2.4), the domain never is.
  return accepted(`${text.slice(0, at)}@${text.slice(at + 1).toLowerCase()}`);
}

/**
 * The latest calendar date anywhere on Earth at `nowMs` (UTC+14), so that a birthday of
 * "today" is never refused because the producer sits east of us.
 */
function latestCalendarDateOnEarth(nowMs: number): string {
  return new Date(nowMs + 14 * 60 * 60 * 1000).toISOString().slice(0, 10);
}

/**
 * SPEC §3: `YYYY-MM-DD`, a real calendar date, not in the future, not before 1900. Replaying
 * later never turns a valid birthday invalid: "not in the future" only loosens as time passes.
 */
export function normaliseBirthday(text: string, nowMs: number): Normalised<string> {
  const match = PATTERNS.birthday.exec(text);
  if (!match) return refused('must be a date in YYYY-MM-DD format');
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return refused('must be a real calendar date');
  }
  if (year < 1900) return refused('must not be before 1900-01-01');
  if (text > latestCalendarDateOnEarth(nowMs)) return refused('must not be in the future');
  return accepted(text);
}

interface TemporalLike {
  ZonedDateTime: new (epochNanoseconds: bigint, timeZone: string) => { timeZoneId: string };
}
const temporal = (globalThis as { Temporal?: TemporalLike }).Temporal;
const knownTimeZones = new Map<string, string>();
const MAX_CACHED_TIME_ZONES = 2048;

/**
 * SPEC §3: a valid IANA zone name. Canonical names and aliases are both accepted and kept as
 * sent (`US/Eastern` stays `US/Eastern`), but the case is corrected (`america/new_york` ->
 * `America/New_York`) because downstream libraries such as Java's ZoneId are case-sensitive.
 */
export function normaliseTimeZone(text: string): Normalised<string> {
  const cached = knownTimeZones.get(text);
  if (cached !== undefined) return accepted(cached);
  const refusal = 'must be an IANA time zone name such as America/New_York';
  if (text.length > LIMITS.timezoneChars || !PATTERNS.timezone.test(text)) return refused(refusal);
  let name: string;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: text });
    // Temporal (Node >= 26) spells the identifier in its IANA case without resolving aliases.
    name = temporal ? new temporal.ZonedDateTime(0n, text).timeZoneId : text;
  } catch {
    return refused(refusal);
  }
  // Only names that exist are cached, so the cache is bounded by the tz database, not by input.
  if (knownTimeZones.size < MAX_CACHED_TIME_ZONES) knownTimeZones.set(text, name);
  return accepted(name);
}

/** SPEC §3: any common format, stored as E.164; a number without country code is taken as US. */
export function normalisePhone(text: string): Normalised<string> {
  if (characterCount(text) > LIMITS.phoneInputChars) {
    return refused(`must be at most ${LIMITS.phoneInputChars} characters`);
  }
  const phone = parsePhoneNumberFromString(text, 'US');
  if (!phone?.isValid()) return refused('must be a valid phone number (default region US)');
  // E.164 cannot carry an extension; dropping it silently would dial the wrong person's desk.
  if (phone.ext !== undefined) return refused('must not have an extension');
  return accepted(phone.number);
}

/** SPEC §3: a 2-letter US state or territory code, any case in, upper case out. */
export function normaliseUsStateCode(text: string): Normalised<UsStateCode> {
  const upper = text.toUpperCase();
  if (text.length !== 2 || !US_STATE_CODE_SET.has(upper)) {
    return refused('must be a 2-letter US state or territory code');
  }
  return accepted(upper as UsStateCode);
}

/* ------------------------------------------ metadata ------------------------------------------ */

export function isPlainJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Why a JSON value cannot be stored as jsonb, or undefined. Postgres refuses `\u0000` and lone
 * surrogates in jsonb, and JSON.parse turns 1e400 into Infinity, which would be stored as null.
 */
function jsonbProblem(value: unknown, depth: number): string | undefined {
  if (value === null || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') {
    return Number.isFinite(value) ? undefined : 'must hold finite numbers only';
  }
  if (typeof value === 'string') {
    return value.includes('\u0000') || !value.isWellFormed()
      ? 'must not contain NUL characters or unpaired surrogates'
      : undefined;
  }
  // `depth` counts the objects and arrays around a value: the metadata object itself is 1.
  if (depth > LIMITS.metadataDepth) {
    return `must not nest objects and arrays deeper than ${LIMITS.metadataDepth} levels`;
  }
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = jsonbProblem(item, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  if (isPlainJsonObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      const problem = jsonbProblem(key, depth) ?? jsonbProblem(item, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  return 'must hold JSON values only';
}

/**
 * SPEC §3: a JSON object <= 16 KiB serialised, applied as an RFC 7396 merge patch (a `null`
 * member deletes that key). The object is returned as given: merging is the domain's job.
 */
export function checkMetadataPatch(value: unknown): Normalised<JsonObject> {
  if (!isPlainJsonObject(value)) return refused('must be a JSON object or null');
  const problem = jsonbProblem(value, 1);
  if (problem) return refused(problem);
  if (Buffer.byteLength(JSON.stringify(value), 'utf8') > LIMITS.metadataBytes) {
    return refused(`must be at most ${LIMITS.metadataBytes} bytes when serialised`);
  }
  return accepted(value as JsonObject);
}
