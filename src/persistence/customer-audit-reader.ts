import { sql } from 'drizzle-orm';
import type {
  CustomerAuditStore,
  EnrichmentJobRecord,
  ProcessedEventRecord,
} from '../application/explain-customer.ts';
import type { MetadataTombstones } from '../domain/metadata-registers.ts';
import { readableOccurredAt } from '../domain/occurred-at.ts';
import type { Stamp } from '../domain/stamp.ts';
import {
  type CustomerRow,
  customerFromRow,
  isoTimestamp,
  selectCustomersByKeys,
} from './customer-rows.ts';
import type { Database } from './database.ts';
import { findRedrives } from './redrive-ledger.ts';

type ProcessedRow = {
  event_id: string;
  outcome: string;
  occurred_at: string | null;
  source: string | null;
  processed_at: string;
  stale_fields: string[] | null;
};

// Microseconds, as stored, in the normalised form occurredAt has everywhere else.
const OCCURRED_AT = sql.raw(
  `to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"000Z"') as occurred_at`,
);
const PROCESSED_COLUMNS = sql`event_id::text, outcome, ${OCCURRED_AT}, source,
  ${isoTimestamp('processed_at')} as processed_at, stale_fields`;

function processedRecord(row: ProcessedRow): ProcessedEventRecord {
  return {
    eventId: row.event_id,
    outcome: row.outcome,
    occurredAt: row.occurred_at === null ? null : readableOccurredAt(row.occurred_at),
    source: row.source,
    processedAt: row.processed_at,
    staleFields: row.stale_fields,
  };
}

/**
 * `explain`'s reads (SPEC §7): one customer's row, and what processed_events, enrichment_jobs
 * and dlq_redrives recorded about it. Every lookup is by the (tenant, external id) pair
 * (SPEC §4.7) or by keys that came from this customer's own row or letters.
 */
export function createCustomerAuditReader(db: Database): CustomerAuditStore {
  return {
    async findCustomer(key) {
      const [row] = await db.execute<CustomerRow>(selectCustomersByKeys([key]));
      return row === undefined ? undefined : customerFromRow(row);
    },

    async processedEvents(key, eventIds) {
      if (eventIds.length === 0) return new Map();
      const rows = await db.execute<ProcessedRow>(sql`
        select ${PROCESSED_COLUMNS} from processed_events
        where tenant_id = ${key.tenantId} and external_id = ${key.externalId}
          and event_id in (select jsonb_array_elements_text(${JSON.stringify(eventIds)}::jsonb)::uuid)`);
      return new Map(rows.map((row) => [row.event_id, processedRecord(row)]));
    },

    async metadataTombstones(key) {
      const rows = await db.execute<{ path: string; stamp: string }>(sql`
        select path, stamp from metadata_tombstones
        where tenant_id = ${key.tenantId} and external_id = ${key.externalId}`);
      return Object.fromEntries(
        rows.map((row) => [row.path, row.stamp as Stamp]),
      ) as MetadataTombstones;
    },

    async staleWrites(key) {
      // The predicate of processed_events_stale_customer_idx, so that index answers it.
      const rows = await db.execute<ProcessedRow>(sql`
        select ${PROCESSED_COLUMNS} from processed_events
        where tenant_id = ${key.tenantId} and external_id = ${key.externalId}
          and (stale_fields is not null or outcome = 'stale')
        order by processed_events.processed_at desc, event_id`);
      return rows.map(processedRecord);
    },

    async enrichmentJobs(key) {
      const rows = await db.execute<{
        id: string;
        state: string;
        causation_id: string;
        attempts: number;
        last_error_code: string | null;
        failure_reason: string | null;
        changed_fields: string[] | null;
        requested_at: string;
        next_attempt_at: string;
        finished_at: string | null;
      }>(sql`
        select id::text, state, causation_id::text, attempts, last_error_code, failure_reason,
          changed_fields, ${isoTimestamp('requested_at')} as requested_at,
          ${isoTimestamp('next_attempt_at')} as next_attempt_at,
          ${isoTimestamp('finished_at')} as finished_at
        from enrichment_jobs
        where tenant_id = ${key.tenantId} and external_id = ${key.externalId}
          and (state in ('pending', 'running')
               or (state = 'succeeded' and cardinality(changed_fields) > 0))
        order by enrichment_jobs.id desc`);
      return rows.map(
        (row): EnrichmentJobRecord => ({
          id: Number(row.id),
          state: row.state,
          causationId: row.causation_id,
          attempts: row.attempts,
          lastErrorCode: row.last_error_code,
          failureReason: row.failure_reason,
          changedFields: row.changed_fields,
          requestedAt: row.requested_at,
          nextAttemptAt: row.next_attempt_at,
          finishedAt: row.finished_at,
        }),
      );
    },

    redrives: (positions) => findRedrives(db, positions),
  };
}
