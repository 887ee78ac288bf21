/**
 * The stable codes a rejected message is dead-lettered with (SPEC §4.4: the `error.code`
 * header). Operators filter on them (`dlq list --code …`) and dashboards count by them, so a
 * code, once shipped, is never renamed or reused for another meaning.
 */
export const ERROR_CODES = {
  /**
   * The value is missing or empty, is not valid UTF-8 (in any of its strings, whatever the
   * format: plain JSON, Avro or JSON Schema), or is not JSON.
   */
  decodeMalformed: 'decode.malformed',
  /** The value is JSON, but not a JSON object (an array, a string, `null`, …). */
  decodeNotAnObject: 'decode.not_an_object',
  /** The value is larger than the configured maximum; checked before it is parsed. */
  payloadTooLarge: 'payload.too_large',
  /**
   * An Avro length or count (string, bytes, array or map block) declares more than the rest of
   * the message can hold; refused before anything is allocated for it (SPEC §4.4).
   */
  decodeLengthExceedsMessage: 'decode.length_exceeds_message',
  /** Objects and arrays (JSON) or records, arrays and maps (Avro) nest deeper than the decoder allows. */
  decodeTooDeep: 'decode.too_deep',
  /** The value holds more values (JSON values, Avro fields, items and entries) than the decoder allows. */
  decodeTooManyValues: 'decode.too_many_values',
  /** The envelope is wrong: eventId, type, version, occurredAt, tenantId, externalId, source, an unknown top-level field, or `data` missing or not an object. */
  envelopeInvalid: 'envelope.invalid',
  /** `data` has a field the contract does not know (SPEC §3: typos are not silently lost). */
  dataUnknownField: 'data.unknown_field',
  /** A known `data` field breaks its rule (SPEC §3 table). */
  dataInvalidField: 'data.invalid_field',
  /** The tenantId is not configured (SPEC §3: unknown tenant -> dead letter). */
  tenantUnknown: 'tenant.unknown',
  /** data.taskType is not one of the tenant's configured task types (SPEC §3). */
  tenantTaskTypeNotAllowed: 'tenant.task_type_not_allowed',
  /** The Kafka key is present but is not `<tenantId>:<externalId>` of the event (SPEC §2). */
  keyMismatch: 'key.mismatch',
  /** Schema Registry wire format names a schema id the registry does not have. */
  schemaUnknownId: 'schema.unknown_id',
  /** Schema Registry wire format: the value does not decode with the schema it names. */
  schemaMismatch: 'schema.mismatch',
  /**
   * Schema Registry JSON Schema: checking the value against its schema's patterns would take
   * more regular-expression work than one message is allowed (SPEC §4.4: decoding is bounded).
   */
  schemaValidationTooCostly: 'schema.validation_too_costly',
  /** SCHEMA_REGISTRY_REQUIRED is set and the value is not in Schema Registry wire format. */
  schemaWireFormatRequired: 'schema.wire_format_required',
  /** The database rejected the event even when applied alone (not a transient failure). */
  applyFailed: 'apply.failed',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

export const ALL_ERROR_CODES: readonly ErrorCode[] = Object.values(ERROR_CODES);

export function isErrorCode(value: string): value is ErrorCode {
  return (ALL_ERROR_CODES as readonly string[]).includes(value);
}

/**
 * Why a message was rejected. The message is PII-free by construction: it names fields and
 * rules, never the values it was given (SPEC §4.4: it travels in a DLQ header and into logs).
 */
export interface ValidationFailure {
  code: ErrorCode;
  message: string;
  /** Where the problem is, e.g. `data.phone` or `occurredAt`; absent for whole-message problems. */
  path?: string;
}
