/**
 * The Avro form of `customer.update.requested` (`schemas/customer.update.requested.avsc`) and
 * its conversion to and from the JSON shape that `parseCustomerUpdateRequested` validates.
 *
 * Avro cannot tell an absent field from a null one, and SPEC §3 needs both (absent = leave
 * unchanged, null = clear). So in Avro a null field, or one holding its schema default ([],
 * false), is "not sent", and clearing is said by naming the field in `data.fieldsToClear`. `data.metadata`
 * travels as JSON text, since Avro has no free-form JSON type.
 *
 * The conversion goes by the writer's schema, field by field, so a producer on an older version
 * (fields missing) or a newer one (extra fields left at their defaults) reads the same; a newer
 * field that carries a value is kept, and the zod contract then rejects it as unknown rather
 * than dropping it unseen (SPEC §3: nothing is silently lost). Pure code, no I/O.
 */
import { CUSTOMER_FIELDS } from '../domain/customer-fields.ts';
import type { DecodeResult } from './customer-update-requested.ts';
import { checkJsonStructure, DECODING_LIMITS } from './decoding-limits.ts';
import { ERROR_CODES } from './error-codes.ts';

/** What `data.fieldsToClear` may name: every customer field that can be null, and metadata. */
export const CLEARABLE_FIELDS: readonly string[] = [
  ...CUSTOMER_FIELDS.filter((field) => field !== 'taskType'),
  'metadata',
];

/** The parts of an Avro record schema (an avsc RecordType) the conversion reads. */
export interface AvroRecordSchema {
  readonly fields: ReadonlyArray<AvroField>;
}

interface AvroField {
  readonly name: string;
  readonly type: unknown;
  /** The field's schema default, or undefined when it has none. */
  defaultValue(): unknown;
}

/**
 * A record decoded with its writer schema -> the JSON shape of SPEC §3, ready for
 * `parseCustomerUpdateRequested`. Fails only on what the JSON shape cannot express
 * (fieldsToClear naming an unknown field or a field also set; metadata text that is not a JSON
 * object); every other rule is left to the zod contract, so both formats fail alike.
 */
export function fromAvroUpdateRequest(record: unknown, writer: AvroRecordSchema): DecodeResult {
  // A map schema decodes to an object too, but has no fields to convert by.
  if (!isObject(record) || !isRecordSchema(writer)) {
    return notAnObject();
  }
  const envelope: Record<string, unknown> = {};
  for (const field of writer.fields) {
    const value = record[field.name];
    if (field.name === 'data' && isRecordSchema(field.type) && isObject(value)) {
      const data = fromAvroData(value, field.type);
      if (!data.ok) return data;
      envelope.data = data.value;
    } else if (!isNotSent(field, value)) {
      envelope[field.name] = toPlainJson(value);
    }
  }
  return { ok: true, value: envelope };
}

function fromAvroData(record: Record<string, unknown>, writer: AvroRecordSchema): DecodeResult {
  const data: Record<string, unknown> = {};
  let fieldsToClear: unknown[] = [];
  for (const field of writer.fields) {
    const value = record[field.name];
    if (field.name === 'fieldsToClear' && Array.isArray(value)) fieldsToClear = value;
    else if (!isNotSent(field, value)) data[field.name] = toPlainJson(value);
  }

  if (typeof data.metadata === 'string') {
    // JSON inside Avro: the same limits as a plain-JSON message, before JSON.parse.
    const tooComplex = checkJsonStructure(data.metadata, DECODING_LIMITS, 'data.metadata');
    if (tooComplex) return { ok: false, failure: { ...tooComplex, path: 'data.metadata' } };
    const patch = parseJsonObject(data.metadata);
    if (patch === undefined) {
      return invalidField(
        'metadata',
        'must be the JSON text of an object (a merge patch); clear metadata with fieldsToClear',
      );
    }
    data.metadata = patch;
  }

  for (const name of fieldsToClear) {
    if (typeof name !== 'string' || !CLEARABLE_FIELDS.includes(name)) {
      return {
        ok: false,
        failure: {
          code: ERROR_CODES.dataUnknownField,
          message: `data.fieldsToClear names a field that cannot be cleared; clearable: ${CLEARABLE_FIELDS.join(', ')}`,
          path: 'data.fieldsToClear',
        },
      };
    }
    if (data[name] !== undefined && data[name] !== null) {
      return invalidField(name, 'is both set and named in fieldsToClear');
    }
    data[name] = null;
  }
  return { ok: true, value: data };
}

/**
 * The JSON shape of SPEC §3 -> the Avro record of `schemas/customer.update.requested.avsc`, for
 * producers and tests. Throws on a `data` field the Avro schema does not have.
 */
export function toAvroUpdateRequest(request: Record<string, unknown>): Record<string, unknown> {
  const { data, source, ...envelope } = request;
  const input = isObject(data) ? data : {};
  const avroData: Record<string, unknown> = { taskType: input.taskType };
  const fieldsToClear: string[] = [];
  for (const name of CLEARABLE_FIELDS) {
    const value = input[name];
    if (value === null) fieldsToClear.push(name);
    avroData[name] =
      value === undefined || value === null
        ? null
        : name === 'metadata'
          ? JSON.stringify(value)
          : value;
  }
  avroData.fieldsToClear = fieldsToClear;
  avroData.loanIds = input.loanIds ?? null;
  avroData.enrich = input.enrich ?? false;
  avroData.loanReferenceId = input.loanReferenceId ?? null;
  const unknown = Object.keys(input).filter((name) => !(name in avroData));
  if (unknown.length > 0) {
    throw new Error(`the Avro schema has no data field ${unknown.join(', ')}`);
  }
  return { ...envelope, source: source ?? null, data: avroData };
}

/**
 * Null, or the field's schema default, means "not sent" (see the module comment): null never
 * clears in Avro, even in a writer schema whose field has no default.
 */
function isNotSent(field: AvroField, value: unknown): boolean {
  if (value === null || value === undefined) return true;
  const fallback = field.defaultValue();
  if (fallback === undefined) return false;
  return JSON.stringify(toPlainJson(value)) === JSON.stringify(toPlainJson(fallback));
}

/** avsc decodes records as class instances; the contract expects plain JSON objects. */
function toPlainJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toPlainJson);
  if (isObject(value) && !Buffer.isBuffer(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toPlainJson(item)]));
  }
  return value;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return isObject(parsed) && !Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function isRecordSchema(type: unknown): type is AvroRecordSchema {
  return isObject(type) && Array.isArray((type as { fields?: unknown }).fields);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalidField(name: string, rule: string): DecodeResult {
  return {
    ok: false,
    failure: {
      code: ERROR_CODES.dataInvalidField,
      message: `data.${name} ${rule}`,
      path: `data.${name}`,
    },
  };
}

function notAnObject(): DecodeResult {
  return {
    ok: false,
    failure: {
      code: ERROR_CODES.decodeNotAnObject,
      message: 'the Avro value is not a record',
    },
  };
}
