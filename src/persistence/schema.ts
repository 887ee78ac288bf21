import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  customType,
  date,
  index,
  integer,
  json,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { JsonObject } from '../domain/customer-fields.ts';
import type { FieldStamps } from '../domain/customer-record.ts';
import type { MetadataRegisters } from '../domain/metadata-registers.ts';

/**
 * The single source of the tables; `drizzle-kit generate` derives the SQL migrations in
 * drizzle/ from this file. Every table is scoped by tenant (SPEC §4.7).
 */

/** A company: which task types its events may name (SPEC §3 taskType). */
export const tenants = pgTable('tenants', {
  tenantId: text('tenant_id').primaryKey(),
  taskTypes: text('task_types').array().notNull(),
  /** overrides LENDING_API_URL for this tenant (SPEC §6) */
  lendingApiUrl: text('lending_api_url'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const customers = pgTable(
  'customers',
  {
    tenantId: text('tenant_id').notNull(),
    externalId: text('external_id').notNull(),
    taskType: text('task_type'),
    firstName: text('first_name'),
    lastName: text('last_name'),
    email: text('email'),
    birthday: date('birthday', { mode: 'string' }),
    ssnLast4: text('ssn_last4'),
    timezone: text('timezone'),
    phone: text('phone'),
    address1: text('address1'),
    address2: text('address2'),
    city: text('city'),
    state: text('state'),
    zip: text('zip'),
    doNotCall: boolean('do_not_call'),
    isTest: boolean('is_test'),
    metadata: jsonb('metadata').$type<JsonObject>().notNull().default(sql`'{}'::jsonb`),
    /** SPEC §4.3: the (occurredAt, eventId) stamp that set each field */
    fieldStamps: jsonb('field_stamps').$type<FieldStamps>().notNull().default(sql`'{}'::jsonb`),
    /** the metadata merge patch as last-writer-wins registers per path */
    metadataRegisters: jsonb('metadata_registers')
      .$type<MetadataRegisters>()
      .notNull()
      .default(sql`'{}'::jsonb`),
    version: integer('version').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' })
      .notNull()
      .defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' })
      .notNull()
      .defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.tenantId, table.externalId] }),
    index('customers_tenant_updated_at_idx').on(table.tenantId, table.updatedAt),
  ],
);

/**
 * SPEC §4.2: every applied (or skipped) event, written in the same transaction as its effect,
 * keyed by (tenant, eventId): another tenant's event with the same eventId is another event
 * (SPEC §4.7). Old rows can be pruned: re-applying a pruned event still changes nothing,
 * because every field it would write already carries its stamp or a newer one.
 */
export const processedEvents = pgTable(
  'processed_events',
  {
    tenantId: text('tenant_id').notNull(),
    eventId: uuid('event_id').notNull(),
    externalId: text('external_id').notNull(),
    outcome: text('outcome').notNull(),
    processedAt: timestamp('processed_at', { withTimezone: true }).notNull().defaultNow(),
    /** the request's occurredAt (microseconds), kept only when stale_fields is: `explain` */
    occurredAt: timestamp('occurred_at', { withTimezone: true }),
    /** SPEC §3 `source`, the producing system, kept for audit (`explain` names the writer) */
    source: text('source'),
    /** SPEC §4.3: fields it carried that already held a newer write (skipped); null if none */
    staleFields: text('stale_fields').array(),
  },
  (table) => [
    primaryKey({ columns: [table.tenantId, table.eventId] }),
    index('processed_events_processed_at_idx').on(table.processedAt),
    // `explain` lists a customer's skipped writes; they are a few per cent of all events.
    index('processed_events_stale_customer_idx')
      .on(table.tenantId, table.externalId)
      .where(sql`stale_fields is not null or outcome = 'stale'`),
  ],
);

/**
 * SPEC §4.6: the transactional outbox. A row is written with the change it announces and
 * deleted once the relay has it acknowledged by Kafka; `id` order is per-customer commit order
 * because writers of one customer hold its lock until they commit.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    eventId: uuid('event_id').notNull(),
    tenantId: text('tenant_id').notNull(),
    externalId: text('external_id').notNull(),
    /**
     * `json`, not `jsonb`: the payload is written once, read once by the relay and never
     * queried; `json` keeps the text as written, so the relay publishes the event's fields in
     * their own order. (Measured, it costs Postgres about the same CPU as jsonb:
     * docs/performance.md.)
     */
    payload: json('payload').notNull(),
    /**
     * W3C trace context of the change (README "Tracing"): the relay continues the trace into
     * the customer.updated headers. Null when tracing is off or the request carried none.
     */
    traceParent: text('trace_parent'),
    traceState: text('trace_state'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /**
     * The customer's hash, for the relay's shards: a row is in shard `key_hash % OUTBOX_SHARDS`,
     * so all of a customer's rows are in one shard and keep their order (SPEC §4.6). Computed
     * by Postgres from the key, so every writer of the outbox gets it; the shard count is
     * applied when reading, so changing it rewrites nothing (README "Sharded relay").
     */
    keyHash: integer('key_hash')
      .notNull()
      .generatedAlwaysAs(
        sql`(hashtextextended(tenant_id || ':' || external_id, 0) & 2147483647)::integer`,
      ),
  },
  // Derived eventIds include the tenant (domain/event-ids.ts); the key says so too (SPEC §4.7).
  (table) => [unique('outbox_tenant_id_event_id_unique').on(table.tenantId, table.eventId)],
);

/** Loans imported from the tenant's lending system (SPEC §6). */
export const loans = pgTable(
  'loans',
  {
    tenantId: text('tenant_id').notNull(),
    loanId: bigint('loan_id', { mode: 'number' }).notNull(),
    externalId: text('external_id').notNull(),
    reference: text('reference'),
    status: text('status'),
    principal: numeric('principal'),
    balance: numeric('balance'),
    currency: text('currency'),
    openedOn: date('opened_on', { mode: 'string' }),
    closedOn: date('closed_on', { mode: 'string' }),
    daysPastDue: integer('days_past_due'),
    /** set when the lending system stopped returning the loan; never deleted silently */
    missingSince: timestamp('missing_since', { withTimezone: true }),
    importedAt: timestamp('imported_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.tenantId, table.loanId] }),
    index('loans_customer_idx').on(table.tenantId, table.externalId),
  ],
);

/**
 * SPEC §6: enrichment as durable jobs. The batch transaction that applies a flagged request
 * enqueues (or merges into) the customer's one active job; workers claim jobs with
 * `FOR UPDATE SKIP LOCKED` and hold a lease they keep renewing, so a job whose worker died is
 * claimed again once its lease expires. See src/persistence/enrichment-job-store.ts.
 */
export const enrichmentJobs = pgTable(
  'enrichment_jobs',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    tenantId: text('tenant_id').notNull(),
    externalId: text('external_id').notNull(),
    /** pending | running | succeeded | failed | no_data */
    state: text('state').notNull().default('pending'),
    /** SPEC §3 enrich: fill the customer's empty fields (false: only loans were asked for) */
    fillFields: boolean('fill_fields').notNull(),
    /** SPEC §3 loanIds: import only these loans; null imports all of them */
    loanIds: bigint('loan_ids', { mode: 'number' }).array(),
    /** SPEC §3 loanReferenceId: look the customer up by this loan reference */
    loanReferenceId: text('loan_reference_id'),
    /** the eventId of the latest request merged into the job: the announcement's causationId */
    causationId: uuid('causation_id').notNull(),
    /** +1 whenever a request is merged in; a worker whose claim saw an older one runs it again */
    revision: integer('revision').notNull().default(0),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    /** the deadline (ENRICHMENT_DEADLINE_MS) runs from the latest request */
    requestedAt: timestamp('requested_at', { withTimezone: true }).notNull().defaultNow(),
    /** identifies the current claim; every write of the worker that holds it checks it */
    leaseToken: uuid('lease_token'),
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true }),
    /** the code of the latest failed attempt (PII-free) */
    lastErrorCode: text('last_error_code'),
    /** why a failed job failed: an error code or `enrichment.deadline_exceeded` (PII-free) */
    failureReason: text('failure_reason'),
    changedFields: text('changed_fields').array(),
    loansImported: integer('loans_imported'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (table) => [
    // One active job per customer: new requests merge into it (deduplicated per customer).
    uniqueIndex('enrichment_jobs_active_customer_idx')
      .on(table.tenantId, table.externalId)
      .where(sql`state in ('pending', 'running')`),
    index('enrichment_jobs_due_idx')
      .on(table.nextAttemptAt)
      .where(sql`state in ('pending', 'running')`),
    index('enrichment_jobs_state_idx').on(table.state, table.updatedAt),
    // `explain` reads one customer's jobs, finished ones included (which job filled a field).
    index('enrichment_jobs_customer_idx').on(table.tenantId, table.externalId),
    check(
      'enrichment_jobs_state_check',
      sql`state in ('pending', 'running', 'succeeded', 'failed', 'no_data')`,
    ),
  ],
);

/**
 * What `dlq redrive` sent back to the input topic, one row per dead letter (keyed by its own
 * DLQ coordinates), written in the transaction that commits only once Kafka took the message:
 * a second redrive of the same range finds them here and sends nothing again.
 */
export const dlqRedrives = pgTable(
  'dlq_redrives',
  {
    dlqTopic: text('dlq_topic').notNull(),
    dlqPartition: integer('dlq_partition').notNull(),
    dlqOffset: bigint('dlq_offset', { mode: 'bigint' }).notNull(),
    /** the topic it was sent back to */
    targetTopic: text('target_topic').notNull(),
    /** the `error.code` it had been dead-lettered with */
    errorCode: text('error_code'),
    /** the request's eventId, when the letter decodes */
    eventId: uuid('event_id'),
    runId: uuid('run_id').notNull(),
    redrivenAt: timestamp('redriven_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.dlqTopic, table.dlqPartition, table.dlqOffset] })],
);

/**
 * A `republish` run: its selection and how far it got. The position is the last customer
 * announced, in (tenant_id, external_id) order, committed with the outbox rows it announced,
 * so a run stopped at any point resumes (`--run-id`) without skipping or repeating anyone.
 */
export const republishRuns = pgTable('republish_runs', {
  /** the causationId of the run's customer.updated events (SPEC §5) */
  runId: uuid('run_id').primaryKey(),
  /** the selection; null means "all" */
  tenantId: text('tenant_id'),
  externalIds: text('external_ids').array(),
  updatedSince: timestamp('updated_since', { withTimezone: true, mode: 'string' }),
  afterTenantId: text('after_tenant_id'),
  afterExternalId: text('after_external_id'),
  published: integer('published').notNull().default(0),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  finishedAt: timestamp('finished_at', { withTimezone: true }),
});

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/**
 * SPEC §4.4: outgoing records the broker refused for good (too large, invalid), kept for an
 * operator instead of being retried in front of everything else: announcements taken out of
 * the outbox, and dead letters. Stored as they were sent (key, value and headers bytes), so
 * `customer-sync parked retry` sends exactly that again once the cause is fixed.
 */
export const parkedRecords = pgTable(
  'parked_records',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    /** announcement (customer.updated) | dead_letter */
    kind: text('kind').notNull(),
    topic: text('topic').notNull(),
    key: bytea('key'),
    value: bytea('value'),
    /** header name -> values, each base64: header values are bytes */
    headers: jsonb('headers').$type<Record<string, string[]>>().notNull(),
    /** the refusal (src/messaging/kafka/refused-records.ts), PII-free */
    errorCode: text('error_code').notNull(),
    errorMessage: text('error_message').notNull(),
    /** the announcement's eventId; for a dead letter, null */
    eventId: uuid('event_id'),
    tenantId: text('tenant_id'),
    externalId: text('external_id'),
    parkedAt: timestamp('parked_at', { withTimezone: true }).notNull().defaultNow(),
    retries: integer('retries').notNull().default(0),
    lastRetriedAt: timestamp('last_retried_at', { withTimezone: true }),
  },
  (table) => [
    index('parked_records_code_idx').on(table.errorCode, table.parkedAt),
    check('parked_records_kind_check', sql`kind in ('announcement', 'dead_letter')`),
  ],
);
/**
 * SPEC §4.3: the tombstones of deleted metadata keys (domain/metadata-registers.ts), kept apart
 * from customers.metadata_registers so that a customer's row, and the cost of every event on
 * it, does not grow with its history of deleted keys; each batch reads only the paths it
 * patches. `path` is the JSON text of the key array, `stamp` the delete's (occurredAt, eventId).
 */
export const metadataTombstones = pgTable(
  'metadata_tombstones',
  {
    tenantId: text('tenant_id').notNull(),
    externalId: text('external_id').notNull(),
    path: text('path').notNull(),
    stamp: text('stamp').notNull(),
  },
  (table) => [primaryKey({ columns: [table.tenantId, table.externalId, table.path] })],
);

/**
 * Housekeeping that one replica at a time does on a schedule of the database's clock, not of
 * any replica's uptime (processed-events-pruner.ts): when each task last started and finished.
 */
export const maintenanceRuns = pgTable('maintenance_runs', {
  task: text('task').primaryKey(),
  lastStartedAt: timestamp('last_started_at', { withTimezone: true }).notNull(),
  lastFinishedAt: timestamp('last_finished_at', { withTimezone: true }),
  /** rows the last finished run deleted */
  lastDeleted: integer('last_deleted'),
});
