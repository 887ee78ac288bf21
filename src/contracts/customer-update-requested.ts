/**
 * The `customer.update.requested` contract (SPEC §3): decoding the message value, the zod
 * schema of the envelope and of `data`, and the failure a bad message is dead-lettered with.
 * The field rules and normalisations themselves live in `domain/customer-field-rules.ts`.
 *
 * Pure code, no I/O. `schemas/customer.update.requested.schema.json` states the same rules for
 * other languages; `test/unit/contracts-agree.test.ts` keeps the two in step, and lists the
 * rules JSON Schema cannot state (real time zones, phone validity, dates in the future, …).
 */
import { z } from 'zod';
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
import {
  CUSTOMER_FIELDS,
  type CustomerFieldName,
  type CustomerFieldValues,
  type CustomerPatch,
  type JsonObject,
} from '../domain/customer-fields.ts';
import {
  type EventId,
  type ExternalId,
  type TenantId,
  eventId as toEventId,
  externalId as toExternalId,
  tenantId as toTenantId,
} from '../domain/ids.ts';
import {
  latestAcceptedOccurredAt,
  MAX_CLOCK_SKEW_HOURS,
  normaliseOccurredAt,
} from '../domain/occurred-at.ts';
import { acceptWellFormedMessage } from './accept-well-formed-message.ts';
import { checkJsonStructure } from './decoding-limits.ts';
import { ERROR_CODES, type ErrorCode, type ValidationFailure } from './error-codes.ts';

export type { ValidationFailure } from './error-codes.ts';
export { MAX_CLOCK_SKEW_HOURS, normaliseOccurredAt };

export const CUSTOMER_UPDATE_REQUESTED_TYPE = 'customer.update.requested';
/** The only envelope version this service understands (SPEC §3: `1` today). */
export const CUSTOMER_UPDATE_REQUESTED_VERSION = 1;
/** Default cap on a message value, checked before JSON.parse so a huge value costs nothing. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;

/* ----------------------------------------- zod schema ----------------------------------------- */

/** Turns a normaliser into a zod transform whose failures carry only our PII-free reason. */
function normalisedBy<T>(normalise: (text: string) => Normalised<T>) {
  return z.string().transform((text, ctx) => {
    const result = normalise(text);
    if (result.ok) return result.value;
    ctx.issues.push({ code: 'custom', message: result.reason, input: text });
    return z.NEVER;
  });
}

/**
 * A stored customer field (SPEC §3): absent leaves it unchanged, `null` clears it. `.optional()`
 * keeps an absent key absent in the output, which is how the patch tells the two apart.
 */
function clearable<T extends z.ZodType>(schema: T) {
  return schema.nullable().optional();
}

/**
 * An instruction rather than a stored field (loanIds, enrich, loanReferenceId, source): there is
 * nothing to clear, so `null` means the same as absent. Producers that serialise every optional
 * member as null are common, and dead-lettering them would help no one.
 */
function nullMeansAbsent<T extends z.ZodType>(schema: T) {
  return schema
    .nullable()
    .optional()
    .transform((value) => value ?? undefined);
}

/** Free text that is not a customer field (taskType, source, loanReferenceId): no trimming. */
function plainText(maxChars: number) {
  return z.string().refine((text) => isPlainText(text, maxChars), {
    error: `must be 1..${maxChars} characters without surrounding whitespace or control characters`,
  });
}

/**
 * One schema per customer field, normalising as it validates. Shared with the lending-system
 * client so enriched data meets the same rules (SPEC §6).
 */
export const CUSTOMER_FIELD_SCHEMAS = {
  taskType: plainText(LIMITS.taskTypeChars),
  firstName: normalisedBy((text) => normaliseTrimmedText(text, LIMITS.nameChars)),
  lastName: normalisedBy((text) => normaliseTrimmedText(text, LIMITS.nameChars)),
  email: normalisedBy(normaliseEmail),
  birthday: normalisedBy((text) => normaliseBirthday(text, Date.now())),
  ssnLast4: z.string().regex(PATTERNS.ssnLast4, { error: 'must be exactly 4 digits' }),
  timezone: normalisedBy(normaliseTimeZone),
  phone: normalisedBy(normalisePhone),
  address1: normalisedBy((text) => normaliseTrimmedText(text, LIMITS.addressChars)),
  address2: normalisedBy((text) => normaliseTrimmedText(text, LIMITS.addressChars)),
  city: normalisedBy((text) => normaliseTrimmedText(text, LIMITS.addressChars)),
  state: normalisedBy(normaliseUsStateCode),
  zip: z.string().regex(PATTERNS.zip, { error: 'must be 12345 or 12345-6789' }),
  doNotCall: z.boolean(),
  isTest: z.boolean(),
} satisfies Record<CustomerFieldName, z.ZodType>;

export interface SchemaOptions {
  /** The clock "not in the future" is judged against (birthday); defaults to Date.now. */
  now?: () => number;
}

/** The zod schema of the whole message. Build one per clock; `parseCustomerUpdateRequested` caches. */
export function createCustomerUpdateRequestedSchema(options: SchemaOptions = {}) {
  const now = options.now ?? Date.now;
  const data = z.strictObject({
    taskType: CUSTOMER_FIELD_SCHEMAS.taskType, // required (SPEC §3, as in the API)
    firstName: clearable(CUSTOMER_FIELD_SCHEMAS.firstName),
    lastName: clearable(CUSTOMER_FIELD_SCHEMAS.lastName),
    email: clearable(CUSTOMER_FIELD_SCHEMAS.email),
    birthday: clearable(normalisedBy((text) => normaliseBirthday(text, now()))),
    ssnLast4: clearable(CUSTOMER_FIELD_SCHEMAS.ssnLast4),
    timezone: clearable(CUSTOMER_FIELD_SCHEMAS.timezone),
    phone: clearable(CUSTOMER_FIELD_SCHEMAS.phone),
    address1: clearable(CUSTOMER_FIELD_SCHEMAS.address1),
    address2: clearable(CUSTOMER_FIELD_SCHEMAS.address2),
    city: clearable(CUSTOMER_FIELD_SCHEMAS.city),
    state: clearable(CUSTOMER_FIELD_SCHEMAS.state),
    zip: clearable(CUSTOMER_FIELD_SCHEMAS.zip),
    doNotCall: clearable(CUSTOMER_FIELD_SCHEMAS.doNotCall),
    isTest: clearable(CUSTOMER_FIELD_SCHEMAS.isTest),
    // null clears all metadata; an object is a merge patch (SPEC §3, RFC 7396).
    metadata: z
      .unknown()
      .transform((value, ctx) => {
        if (value === undefined || value === null) return value;
        const result = checkMetadataPatch(value);
        if (result.ok) return result.value;
        ctx.issues.push({ code: 'custom', message: result.reason, input: value });
        return z.NEVER;
      })
      .optional(),
    loanIds: nullMeansAbsent(
      z
        .array(z.number().int().min(1).max(Number.MAX_SAFE_INTEGER))
        .max(LIMITS.loanIds)
        .refine((ids) => new Set(ids).size === ids.length, {
          error: 'must not contain the same loan id twice',
        }),
    ),
    enrich: nullMeansAbsent(z.boolean()),
    loanReferenceId: nullMeansAbsent(plainText(LIMITS.loanReferenceIdChars)),
  });

  return z.strictObject({
    eventId: z
      .string()
      .regex(PATTERNS.uuid)
      .transform((id) => toEventId(id)),
    type: z.literal(CUSTOMER_UPDATE_REQUESTED_TYPE),
    version: z
      .number()
      .int()
      .superRefine((version, ctx) => {
        if (version === CUSTOMER_UPDATE_REQUESTED_VERSION) return;
        // A newer version is a producer ahead of us, not a broken event: say so (SPEC §3).
        const message =
          version > CUSTOMER_UPDATE_REQUESTED_VERSION
            ? `is newer than this service understands (only ${CUSTOMER_UPDATE_REQUESTED_VERSION}); upgrade customer-sync before producing it`
            : `must be ${CUSTOMER_UPDATE_REQUESTED_VERSION}`;
        ctx.addIssue({ code: 'custom', message, input: version });
      }),
    occurredAt: z.string().transform((text, ctx) => {
      const normalised = normaliseOccurredAt(text);
      if (normalised !== undefined && normalised > latestAcceptedOccurredAt(now())) {
        // A stamp from the far future would win every last-writer-wins comparison for good
        // (SPEC §4.3); a producer's clock that far off is a bug to fix upstream, not data.
        ctx.issues.push({
          code: 'custom',
          message: `must not be more than ${MAX_CLOCK_SKEW_HOURS} hours in the future`,
          input: text,
        });
        return z.NEVER;
      }
      if (normalised !== undefined) return normalised;
      ctx.issues.push({
        code: 'custom',
        message:
          'must be an RFC 3339 timestamp with an offset (Z or ±hh:mm), at most 9 fractional digits',
        input: text,
      });
      return z.NEVER;
    }),
    tenantId: z
      .string()
      .regex(PATTERNS.tenantId)
      .transform((id) => toTenantId(id)),
    externalId: z
      .string()
      .regex(PATTERNS.externalId)
      .transform((id) => toExternalId(id)),
    source: nullMeansAbsent(plainText(LIMITS.sourceChars)),
    data,
  });
}

/* ------------------------------------------ results ------------------------------------------- */

/** A validated, normalised update request: what the rest of the service works with. */
export interface CustomerUpdateRequest {
  eventId: EventId;
  /** UTC, `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`, see normaliseOccurredAt. */
  occurredAt: string;
  tenantId: TenantId;
  externalId: ExternalId;
  source?: string;
  version: number;
  taskType: string;
  /** Every customer field present in `data` (taskType included), normalised; null kept. */
  patch: CustomerPatch;
  /**
   * `data.metadata`: absent -> metadata unchanged; `null` -> clear all metadata (it becomes
   * `{}`, RFC 7396: a non-object patch replaces the whole target); an object -> merge patch.
   */
  metadataPatch?: JsonObject | null;
  /** Only these loans are imported (SPEC §6); absent or null -> all loans. */
  loanIds?: number[];
  enrich: boolean;
  loanReferenceId?: string;
}

export type ParseResult =
  | { ok: true; request: CustomerUpdateRequest }
  | { ok: false; failure: ValidationFailure };

export type DecodeResult = { ok: true; value: unknown } | { ok: false; failure: ValidationFailure };

/* -------------------------------------- failure ordering -------------------------------------- */

/**
 * The first failing rule decides the code. The envelope comes first, type and version before
 * the rest because they say how to read everything else; then unknown `data` fields (a typo
 * explains the invalid fields it causes); then `data` fields in the order of SPEC §3.
 */
const ENVELOPE_ORDER = [
  'type',
  'version',
  'eventId',
  'occurredAt',
  'tenantId',
  'externalId',
  'source',
] as const;
const DATA_ORDER = [...CUSTOMER_FIELDS, 'metadata', 'loanIds', 'enrich', 'loanReferenceId'];

const ENVELOPE_RULES: Record<(typeof ENVELOPE_ORDER)[number] | 'data', string> = {
  type: `must be "${CUSTOMER_UPDATE_REQUESTED_TYPE}"`,
  version: `must be the integer ${CUSTOMER_UPDATE_REQUESTED_VERSION}`,
  eventId: 'must be a UUID (any version; not the nil or max UUID)',
  occurredAt: 'must be an RFC 3339 timestamp with an offset (Z or ±hh:mm)',
  tenantId: `must be 1..${LIMITS.tenantIdChars} characters of A-Z a-z 0-9 . _ -`,
  externalId: `must be 1..${LIMITS.externalIdChars} characters of A-Z a-z 0-9 . _ : -`,
  source: `must be a string of 1..${LIMITS.sourceChars} characters`,
  data: 'must be an object',
};

const DATA_RULES: Record<string, string> = {
  taskType: 'is required: a task type configured for the tenant, e.g. "collections"',
  firstName: `must be a string of 1..${LIMITS.nameChars} characters after trimming, or null`,
  lastName: `must be a string of 1..${LIMITS.nameChars} characters after trimming, or null`,
  email: 'must be an email address, or null',
  birthday: 'must be a date in YYYY-MM-DD format, or null',
  ssnLast4: 'must be exactly 4 digits, or null',
  timezone: 'must be an IANA time zone name such as America/New_York, or null',
  phone: 'must be a phone number string, or null',
  address1: `must be a string of at most ${LIMITS.addressChars} characters, or null`,
  address2: `must be a string of at most ${LIMITS.addressChars} characters, or null`,
  city: `must be a string of at most ${LIMITS.addressChars} characters, or null`,
  state: 'must be a 2-letter US state or territory code, or null',
  zip: 'must be 12345 or 12345-6789, or null',
  doNotCall: 'must be a boolean, or null',
  isTest: 'must be a boolean, or null',
  metadata: 'must be a JSON object, or null',
  loanIds: `must be an array of at most ${LIMITS.loanIds} distinct positive integers`,
  enrich: 'must be a boolean',
  loanReferenceId: `must be a string of 1..${LIMITS.loanReferenceIdChars} characters`,
};

interface RankedFailure {
  rank: number;
  failure: ValidationFailure;
}

/** Field names are not PII, but they are input: quote, clip and escape them before echoing. */
function describeFieldName(name: string): string {
  const clipped = name.length > 64 ? `${name.slice(0, 64)}…` : name;
  return JSON.stringify(clipped);
}

function unknownFieldsMessage(
  where: string,
  keys: readonly string[],
  hint: (key: string) => string | undefined,
): string {
  const shown = keys.slice(0, 5).map((key) => {
    const note = hint(key);
    return note ? `${describeFieldName(key)} (${note})` : describeFieldName(key);
  });
  const more = keys.length > shown.length ? ` and ${keys.length - shown.length} more` : '';
  return `${where} has unknown field${keys.length > 1 ? 's' : ''} ${shown.join(', ')}${more}`;
}

function sameNameIgnoringCase(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  return known.find((name) => name.toLowerCase() === lower);
}

function dataFieldHint(key: string): string | undefined {
  const known = sameNameIgnoringCase(key, DATA_ORDER);
  return known ? `did you mean "${known}"?` : undefined;
}

function envelopeFieldHint(key: string): string | undefined {
  const envelopeField = sameNameIgnoringCase(key, [...ENVELOPE_ORDER, 'data']);
  if (envelopeField) return `did you mean "${envelopeField}"?`;
  const dataField = sameNameIgnoringCase(key, DATA_ORDER);
  return dataField ? `"${dataField}" belongs inside data` : undefined;
}

function rankIssue(issue: z.core.$ZodIssue): RankedFailure {
  const [head, field] = issue.path;
  const custom = issue.code === 'custom';

  if (head === undefined) {
    // Only unknown top-level fields have an empty path: the root is known to be an object.
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    return {
      rank: ENVELOPE_ORDER.length,
      failure: {
        code: ERROR_CODES.envelopeInvalid,
        message: unknownFieldsMessage('the envelope', keys, envelopeFieldHint),
      },
    };
  }

  if (head !== 'data') {
    const name = String(head) as (typeof ENVELOPE_ORDER)[number];
    const rank = ENVELOPE_ORDER.indexOf(name);
    return {
      rank: rank,
      failure: {
        code: ERROR_CODES.envelopeInvalid,
        message: `${name} ${custom ? issue.message : ENVELOPE_RULES[name]}`,
        path: name,
      },
    };
  }

  if (field === undefined) {
    if (issue.code === 'unrecognized_keys') {
      return {
        rank: ENVELOPE_ORDER.length + 2,
        failure: {
          code: ERROR_CODES.dataUnknownField,
          message: unknownFieldsMessage('data', issue.keys, dataFieldHint),
          path: 'data',
        },
      };
    }
    return {
      rank: ENVELOPE_ORDER.length + 1,
      failure: {
        code: ERROR_CODES.envelopeInvalid,
        message: `data ${ENVELOPE_RULES.data}`,
        path: 'data',
      },
    };
  }

  const name = String(field);
  const path = `data.${name}`;
  return {
    rank: ENVELOPE_ORDER.length + 3 + DATA_ORDER.indexOf(name),
    failure: {
      code: ERROR_CODES.dataInvalidField,
      message: `${path} ${custom ? issue.message : (DATA_RULES[name] ?? 'is invalid')}`,
      path,
    },
  };
}

function firstFailure(issues: readonly z.core.$ZodIssue[]): ValidationFailure {
  let first: RankedFailure | undefined;
  for (const issue of issues) {
    const ranked = rankIssue(issue);
    if (first === undefined || ranked.rank < first.rank) first = ranked;
  }
  return first?.failure ?? { code: ERROR_CODES.envelopeInvalid, message: 'the event is invalid' };
}

/* ------------------------------------------ parsing ------------------------------------------- */

type CustomerUpdateRequestedSchema = ReturnType<typeof createCustomerUpdateRequestedSchema>;
/** A message the schema (or its fast path) accepted, normalised, before it becomes a request. */
export type ParsedMessage = z.output<CustomerUpdateRequestedSchema>;

const defaultSchema = createCustomerUpdateRequestedSchema();
const schemasByClock = new WeakMap<() => number, CustomerUpdateRequestedSchema>();

function schemaFor(options: SchemaOptions): CustomerUpdateRequestedSchema {
  if (options.now === undefined) return defaultSchema;
  let schema = schemasByClock.get(options.now);
  if (schema === undefined) {
    schema = createCustomerUpdateRequestedSchema(options);
    schemasByClock.set(options.now, schema);
  }
  return schema;
}

function copyField<K extends CustomerFieldName>(
  patch: CustomerPatch,
  data: ParsedMessage['data'],
  field: K,
): void {
  if (!Object.hasOwn(data, field)) return;
  const value = data[field] as CustomerFieldValues[K] | undefined;
  if (value !== undefined) patch[field] = value;
}

function toRequest(message: ParsedMessage): CustomerUpdateRequest {
  const { data } = message;
  const patch: CustomerPatch = {};
  for (const field of CUSTOMER_FIELDS) copyField(patch, data, field);
  const request: CustomerUpdateRequest = {
    eventId: message.eventId,
    occurredAt: message.occurredAt,
    tenantId: message.tenantId,
    externalId: message.externalId,
    version: message.version,
    taskType: data.taskType,
    patch,
    enrich: data.enrich ?? false,
  };
  if (message.source !== undefined) request.source = message.source;
  if (data.metadata !== undefined) request.metadataPatch = data.metadata as JsonObject | null;
  if (data.loanIds !== undefined) request.loanIds = data.loanIds;
  if (data.loanReferenceId !== undefined) request.loanReferenceId = data.loanReferenceId;
  return request;
}

/**
 * Validates a decoded message value against SPEC §3 and normalises it. Never throws: every
 * problem is a failure with a stable code and a PII-free message, ready for the DLQ.
 */
export function parseCustomerUpdateRequested(
  value: unknown,
  options: SchemaOptions = {},
): ParseResult {
  // Most messages are well formed: the fast path takes them without zod; anything else, valid
  // or not, goes through the schema, which alone words failures.
  if (isPlainJsonObject(value)) {
    const wellFormed = acceptWellFormedMessage(value, (options.now ?? Date.now)());
    if (wellFormed !== undefined)
      return { ok: true, request: toRequest(wellFormed as ParsedMessage) };
  }
  return parseWithSchema(value, options);
}

/** The zod schema alone: the authority the fast path is tested against. */
export function parseWithSchema(value: unknown, options: SchemaOptions = {}): ParseResult {
  if (!isPlainJsonObject(value)) {
    return {
      ok: false,
      failure: {
        code: ERROR_CODES.decodeNotAnObject,
        message: 'the message value must be a JSON object',
      },
    };
  }
  const result = schemaFor(options).safeParse(value);
  if (!result.success) return { ok: false, failure: firstFailure(result.error.issues) };
  return { ok: true, request: toRequest(result.data) };
}

/* ------------------------------------------ decoding ------------------------------------------ */

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function decodeFailure(code: ErrorCode, message: string): DecodeResult {
  return { ok: false, failure: { code, message } };
}

/** payload.too_large, or undefined; separate so other decoders (Avro, registry) reuse it. */
export function checkPayloadSize(
  bytes: Uint8Array,
  maxBytes: number = DEFAULT_MAX_MESSAGE_BYTES,
): ValidationFailure | undefined {
  if (bytes.byteLength <= maxBytes) return undefined;
  return {
    code: ERROR_CODES.payloadTooLarge,
    message: `the message value is ${bytes.byteLength} bytes, over the maximum of ${maxBytes}`,
  };
}

/**
 * Bytes of a plain-JSON message value -> a JSON value. The size is checked before anything
 * else; the text must be valid UTF-8 (a lossy decode would store U+FFFD in place of a name),
 * and within DECODING_LIMITS before JSON.parse builds it. JSON.parse's own error message is not
 * passed on: it quotes the input. Also the payload of JSON Schema wire format: one decoder.
 */
export function decodeJsonMessage(
  bytes: Uint8Array | null | undefined,
  maxBytes: number = DEFAULT_MAX_MESSAGE_BYTES,
): DecodeResult {
  if (bytes === null || bytes === undefined || bytes.byteLength === 0) {
    return decodeFailure(ERROR_CODES.decodeMalformed, 'the message value is empty');
  }
  const tooLarge = checkPayloadSize(bytes, maxBytes);
  if (tooLarge) return { ok: false, failure: tooLarge };
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return decodeFailure(ERROR_CODES.decodeMalformed, 'the message value is not valid UTF-8');
  }
  const tooComplex = checkJsonStructure(text);
  if (tooComplex) return { ok: false, failure: tooComplex };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return decodeFailure(ERROR_CODES.decodeMalformed, 'the message value is not valid JSON');
  }
}
