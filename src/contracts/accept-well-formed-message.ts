/**
 * The fast way through SPEC §3 validation for the common case, a well-formed message: plain
 * checks with the very normalisers, patterns and limits of the zod schema in
 * customer-update-requested.ts, without zod. It answers only "valid, and here it is,
 * normalised" or "not sure": anything unusual, invalid or not, gets undefined and goes through
 * the schema, which alone words failures. So it can never refuse what the schema accepts, and a
 * property test (test/unit/contracts-agree.test.ts) holds it to accepting only what the schema
 * accepts, with the same result. Why it exists: zod took ~15 µs per message, about a tenth of
 * the service's own CPU (docs/performance.md); this takes ~9, most of it libphonenumber.
 */
import {
  checkMetadataPatch,
  isPlainJsonObject,
  isPlainText,
  LIMITS,
  type Normalised,
  normaliseBirthday,
  normaliseEmail,
  normalisePhone,
  normaliseTimeZone,
  normaliseTrimmedText,
  normaliseUsStateCode,
  PATTERNS,
} from '../domain/customer-field-rules.ts';
import { CUSTOMER_FIELDS, type CustomerFieldName } from '../domain/customer-fields.ts';
import { eventId, externalId, tenantId } from '../domain/ids.ts';
import { latestAcceptedOccurredAt, normaliseOccurredAt } from '../domain/occurred-at.ts';

const ENVELOPE_KEYS: ReadonlySet<string> = new Set([
  'eventId',
  'type',
  'version',
  'occurredAt',
  'tenantId',
  'externalId',
  'source',
  'data',
]);
const DATA_KEYS: ReadonlySet<string> = new Set([
  ...CUSTOMER_FIELDS,
  'metadata',
  'loanIds',
  'enrich',
  'loanReferenceId',
]);

type FieldRule = (value: unknown, nowMs: number) => Normalised<unknown> | undefined;

const text =
  (normalise: (text: string, nowMs: number) => Normalised<unknown>): FieldRule =>
  (value, nowMs) =>
    typeof value === 'string' ? normalise(value, nowMs) : undefined;
const matching =
  (pattern: RegExp): FieldRule =>
  (value) =>
    typeof value === 'string' && pattern.test(value) ? { ok: true, value } : undefined;
const boolean: FieldRule = (value) =>
  typeof value === 'boolean' ? { ok: true, value } : undefined;

/** The schema's CUSTOMER_FIELD_SCHEMAS, as plain functions. */
const FIELD_RULES: Record<CustomerFieldName, FieldRule> = {
  taskType: (value) =>
    typeof value === 'string' && isPlainText(value, LIMITS.taskTypeChars)
      ? { ok: true, value }
      : undefined,
  firstName: text((value) => normaliseTrimmedText(value, LIMITS.nameChars)),
  lastName: text((value) => normaliseTrimmedText(value, LIMITS.nameChars)),
  email: text(normaliseEmail),
  birthday: text(normaliseBirthday),
  ssnLast4: matching(PATTERNS.ssnLast4),
  timezone: text(normaliseTimeZone),
  phone: text(normalisePhone),
  address1: text((value) => normaliseTrimmedText(value, LIMITS.addressChars)),
  address2: text((value) => normaliseTrimmedText(value, LIMITS.addressChars)),
  city: text((value) => normaliseTrimmedText(value, LIMITS.addressChars)),
  state: text(normaliseUsStateCode),
  zip: matching(PATTERNS.zip),
  doNotCall: boolean,
  isTest: boolean,
};

/** Own keys all known, and none of them undefined (which JSON cannot say, but a caller can). */
function hasOnlyKnownKeys(object: Record<string, unknown>, known: ReadonlySet<string>): boolean {
  for (const key of Object.keys(object)) {
    if (!known.has(key) || object[key] === undefined) return false;
  }
  return true;
}

function optionalPlainText(value: unknown, maxChars: number): { value?: string } | undefined {
  if (value === undefined || value === null) return {};
  return typeof value === 'string' && isPlainText(value, maxChars) ? { value } : undefined;
}

function acceptLoanIds(value: unknown): { value?: number[] } | undefined {
  if (value === undefined || value === null) return {};
  if (!Array.isArray(value) || value.length > LIMITS.loanIds) return undefined;
  for (const id of value) {
    if (!Number.isSafeInteger(id) || (id as number) < 1) return undefined;
  }
  return new Set(value).size === value.length ? { value: value as number[] } : undefined;
}

/**
 * The message normalised as the schema would, if it is plainly valid; undefined otherwise
 * (which says nothing about its validity). `nowMs` is the clock birthdays and occurredAt are
 * judged against. The result has the shape of the schema's output; the schema module gives it
 * its type (this module does not import the schema's, so the two do not import each other),
 * and contracts-agree.test.ts holds both to the same answers.
 */
export function acceptWellFormedMessage(
  message: Record<string, unknown>,
  nowMs: number,
): Record<string, unknown> | undefined {
  if (!hasOnlyKnownKeys(message, ENVELOPE_KEYS)) return undefined;
  const { data } = message;
  if (
    message.type !== 'customer.update.requested' ||
    message.version !== 1 ||
    typeof message.eventId !== 'string' ||
    !PATTERNS.uuid.test(message.eventId) ||
    typeof message.occurredAt !== 'string' ||
    typeof message.tenantId !== 'string' ||
    !PATTERNS.tenantId.test(message.tenantId) ||
    typeof message.externalId !== 'string' ||
    !PATTERNS.externalId.test(message.externalId) ||
    !isPlainJsonObject(data) ||
    !hasOnlyKnownKeys(data, DATA_KEYS)
  ) {
    return undefined;
  }
  const occurredAt = normaliseOccurredAt(message.occurredAt);
  if (occurredAt === undefined || occurredAt > latestAcceptedOccurredAt(nowMs)) return undefined;
  const source = optionalPlainText(message.source, LIMITS.sourceChars);
  if (source === undefined) return undefined;

  const accepted: Record<string, unknown> = {};
  if (data.taskType === undefined) return undefined; // required
  for (const field of CUSTOMER_FIELDS) {
    const value = data[field];
    if (value === undefined) continue;
    if (value === null) {
      if (field === 'taskType') return undefined; // the only field that cannot be cleared
      accepted[field] = null;
      continue;
    }
    const normalised = FIELD_RULES[field](value, nowMs);
    if (normalised === undefined || !normalised.ok) return undefined;
    accepted[field] = normalised.value;
  }
  if (data.metadata !== undefined) {
    if (data.metadata === null) accepted.metadata = null;
    else {
      const patch = checkMetadataPatch(data.metadata);
      if (!patch.ok) return undefined;
      accepted.metadata = patch.value;
    }
  }
  const loanIds = acceptLoanIds(data.loanIds);
  if (loanIds === undefined) return undefined;
  if (loanIds.value !== undefined) accepted.loanIds = loanIds.value;
  if (data.enrich !== undefined && data.enrich !== null) {
    if (typeof data.enrich !== 'boolean') return undefined;
    accepted.enrich = data.enrich;
  }
  const loanReferenceId = optionalPlainText(data.loanReferenceId, LIMITS.loanReferenceIdChars);
  if (loanReferenceId === undefined) return undefined;
  if (loanReferenceId.value !== undefined) accepted.loanReferenceId = loanReferenceId.value;

  const parsed: Record<string, unknown> = {
    eventId: eventId(message.eventId),
    type: message.type,
    version: message.version,
    occurredAt,
    tenantId: tenantId(message.tenantId),
    externalId: externalId(message.externalId),
    data: accepted,
  };
  if (source.value !== undefined) parsed.source = source.value;
  return parsed;
}
