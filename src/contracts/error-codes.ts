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
  /**
   * Applied, the event would grow the customer's document past CUSTOMER_MAX_DOCUMENT_BYTES, so
   * that its announcement could outgrow what Kafka accepts (SPEC §4.4); the customer keeps its
   * state. Not recorded as processed: raise the limit or shrink the metadata, then redrive.
   */
  customerDocumentTooLarge: 'customer.document_too_large',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/**
 * Why an enrichment attempt failed; stored with the job (`last_error_code`, `failure_reason`),
 * shown by `customer-sync enrichment list`, never renamed once shipped. PII-free by nature.
 */
export const ENRICHMENT_FAILURE_CODES = {
  /** no answer within LENDING_API_TIMEOUT_MS; retried */
  timeout: 'lending.timeout',
  /** connection failed, or a 5xx answer; retried */
  unavailable: 'lending.unavailable',
  /** 429; retried no earlier than its Retry-After */
  rateLimited: 'lending.rate_limited',
  /** 401 or 403: the tenant's token is missing or wrong; fix configuration, then retry */
  unauthorized: 'lending.unauthorized',
  /** another 4xx: the lending system refuses the question as asked */
  rejected: 'lending.rejected',
  /** the answer does not follow schemas/lending-system.openapi.json */
  invalidResponse: 'lending.invalid_response',
  /** the customer found by loanReferenceId is another customer than the request's */
  customerMismatch: 'lending.customer_mismatch',
  /** neither the tenant nor LENDING_API_URL names a lending system */
  notConfigured: 'lending.not_configured',
  /** the call was cut short by this process stopping; the job goes back to the queue */
  aborted: 'lending.aborted',
  /** ENRICHMENT_DEADLINE_MS passed since the latest request without a successful attempt */
  deadlineExceeded: 'enrichment.deadline_exceeded',
} as const;

export type EnrichmentFailureCode =
  (typeof ENRICHMENT_FAILURE_CODES)[keyof typeof ENRICHMENT_FAILURE_CODES];

/**
 * Failures of the service itself and of its operator commands: never a dead letter. They reach
 * logs (`failure.code`), the retries metric's `reason`, and an operator command's one-line
 * error; a retryable one (`canRetry`) is retried with the partition paused (SPEC §4.5).
 */
export const SERVICE_FAILURE_CODES = {
  /** an attempt (a chunk's transaction, a relay query) did not settle in time and was abandoned; retried */
  attemptTimedOut: 'attempt.timed_out',
  /** another transaction recorded one of the chunk's eventIds first; retried, then a duplicate */
  applyConcurrentDuplicate: 'apply.concurrent_duplicate',
  /** the server answered a chunk's COMMIT with ROLLBACK: one of its statements had failed; retried */
  applyTransactionRolledBack: 'apply.transaction_rolled_back',
  /** the relay's lease connection ended while it relayed; it joins again */
  outboxLeaseLost: 'outbox.lease_lost',
  /** a store made without a lease database was asked to relay (a programming error) */
  outboxLeaseUnsupported: 'outbox.lease_unsupported',
  /** another replica relays with another OUTBOX_SHARDS, or an older single-lease relay runs; retried */
  outboxShardCountMismatch: 'outbox.shard_count_mismatch',
  /** the broker stored a record batch that cannot be decompressed or parsed; the partition stops there */
  kafkaUnreadableRecordBatch: 'kafka.unreadable_record_batch',
  /** the broker refused the TLS handshake (KAFKA_SSL_* settings) */
  kafkaTlsRefused: 'kafka.tls_refused',
  /** an offset commit not sent: the group rebalanced after its chunk was applied; read again as duplicates */
  kafkaCommitStale: 'kafka.commit_stale',
  /** a chunk still waiting for its transaction when the consumer was stopped: not applied, its offset stays */
  consumerStopping: 'consumer.stopping',
  /** start-up waited STARTUP_TIMEOUT_MS for a dependency that did not answer: exit 69 */
  startUpDependencyUnavailable: 'start_up.dependency_unavailable',
  /** a dependency answered in a way no waiting can fix (credentials, TLS, schema): exit 78 */
  startUpDependencyMisconfigured: 'start_up.dependency_misconfigured',
  /** a stop was requested while the service was starting */
  serviceStartAborted: 'service.start_aborted',
  /** the Schema Registry did not answer, or answered 5xx, 401 or 403; retried */
  schemaRegistryUnavailable: 'schema_registry.unavailable',
  /** the Schema Registry refused a request as asked (another 4xx) */
  schemaRegistryRejected: 'schema_registry.rejected',
  /** `schemas register`: a schema is not compatible with the subject's registered versions */
  schemaIncompatible: 'schema.incompatible',
  /** a range names a partition the topic does not have (replay, dlq) */
  rangeUnknownPartition: 'range.unknown_partition',
  /** reading a topic range failed (replay, dlq, explain) */
  rangeReadFailed: 'range.read_failed',
  /** replay: the apply path needs to know what customer.updated carries; loaded, then retried */
  replayAnnouncedIndexNeeded: 'replay.announced_index_needed',
  /** replay or redrive stopped by a signal between chunks */
  replayInterrupted: 'replay.interrupted',
  /** replay --dry-run: the database has no customers table (not migrated) */
  replayNoCustomersTable: 'replay.no_customers_table',
  /** replay --dry-run: the tables it writes could not be shadowed; nothing was done */
  replayDryRunNotShadowed: 'replay.dry_run_not_shadowed',
  /** replay --dry-run: the apply path wrote a table the dry run does not shadow; it stopped */
  replayDryRunUnshadowedWrite: 'replay.dry_run_unshadowed_write',
  /** republish: the run to resume does not exist */
  republishRunMissing: 'republish.run_missing',
  /** republish: another process is running this run */
  republishRunBusy: 'republish.run_busy',
} as const;

export type ServiceFailureCode = (typeof SERVICE_FAILURE_CODES)[keyof typeof SERVICE_FAILURE_CODES];

/** Every code the service raises, each family once: the type of `CustomerSyncError.code`. */
export type FailureCode = ErrorCode | EnrichmentFailureCode | ServiceFailureCode;

/** The registry by family, for the tests that hold the README's tables to it. */
export const FAILURE_CODE_FAMILIES = {
  deadLetter: ERROR_CODES,
  enrichment: ENRICHMENT_FAILURE_CODES,
  service: SERVICE_FAILURE_CODES,
} as const;

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
