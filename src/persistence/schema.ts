import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  date,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
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
 * SPEC §4.2: every applied (or skipped) eventId, written in the same transaction as its effect.
 * Old rows can be pruned: re-applying a pruned event still changes nothing, because every field
 * it would write already carries its stamp or a newer one.
 */
export const processedEvents = pgTable(
  'processed_events',
  {
    eventId: uuid('event_id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    externalId: text('external_id').notNull(),
    outcome: text('outcome').notNull(),
    processedAt: timestamp('processed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('processed_events_processed_at_idx').on(table.processedAt)],
);

/**
 * SPEC §4.6: the transactional outbox. A row is written with the change it announces and
 * deleted once the relay has it acknowledged by Kafka; `id` order is per-customer commit order
 * because writers of one customer hold its lock until they commit.
 */
export const outbox = pgTable('outbox', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  eventId: uuid('event_id').notNull().unique(),
  tenantId: text('tenant_id').notNull(),
  externalId: text('external_id').notNull(),
  payload: jsonb('payload').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

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
