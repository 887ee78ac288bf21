import { sql } from 'drizzle-orm';
import type {
  ProcessedEvent,
  TraceContext,
  UpdateBatchStore,
  UpdateBatchTransaction,
} from '../application/apply-update-batch.ts';
import type { CustomerUpdated } from '../contracts/customer-updated.ts';
import type { TenantConfiguration } from '../contracts/tenant-rules.ts';
import { type CustomerKey, customerKeyId } from '../domain/customer-key.ts';
import type { StoredCustomer } from '../domain/customer-snapshot.ts';
import type { MetadataTombstones } from '../domain/metadata-registers.ts';
import type { Stamp } from '../domain/stamp.ts';
import { type TenantEvent, tenantEventKey } from '../domain/tenant-event-key.ts';
import { CustomerSyncError } from '../errors.ts';
import { lockCustomers } from './customer-lock.ts';
import {
  type CustomerRow,
  customerFromRow,
  selectCustomersByKeys,
  upsertCustomers,
} from './customer-rows.ts';
import type { Database, DatabaseTransaction } from './database.ts';
import { enqueueEnrichmentJobs } from './enqueue-enrichment-jobs.ts';
import { OUTBOX_CHANNEL } from './outbox-store.ts';
import { cancelledBy, executePrepared, type SqlExecutor } from './prepared-sql.ts';
import { inTransactionBegunWithItsStatements } from './transaction-begun-with-its-statements.ts';

/**
 * The batch transaction in set-based SQL: a fixed handful of statements per batch whatever its
 * size, each taking its rows as one JSON parameter (SPEC §4.1, §4.2, §4.6). The json_* functions
 * read it as text, so Postgres does not first build a jsonb document it only takes apart again.
 */
export function createUpdateBatchStore(
  db: Database,
  options: {
    execute?: SqlExecutor;
    /**
     * each transaction as drizzle runs it, BEGIN answered before the first statement is sent,
     * as a first version would (the benchmark's naive consumer); otherwise BEGIN travels with
     * the first statements (transaction-begun-with-its-statements.ts)
     */
    drizzleTransactions?: boolean;
  } = {},
): UpdateBatchStore {
  const execute = options.execute ?? executePrepared;
  if (options.drizzleTransactions)
    return {
      inTransaction: (work, signal) =>
        db.transaction((tx) => work(transactionOf(tx, cancelledBy(signal, execute)))),
    };
  return {
    inTransaction: (work, signal) => {
      signal?.throwIfAborted();
      return inTransactionBegunWithItsStatements(db, execute, (tx, inTransaction) =>
        work(transactionOf(tx, cancelledBy(signal, inTransaction))),
      );
    },
  };
}

/** `execute` runs each statement; prepared statements unless told otherwise. */
export function transactionOf(
  tx: DatabaseTransaction,
  execute: SqlExecutor = executePrepared,
): UpdateBatchTransaction {
  return {
    lockCustomers: (keys) => lockCustomers(tx, keys, execute),

    async findTenants(tenantIds) {
      const rows = await execute<{
        tenant_id: string;
        task_types: string[];
        lending_api_url: string | null;
      }>(
        tx,
        sql`
        select tenant_id, task_types, lending_api_url from tenants
        where tenant_id in (select json_array_elements_text(${JSON.stringify(tenantIds)}::json))`,
      );
      return new Map<string, TenantConfiguration>(
        rows.map((row) => [
          row.tenant_id,
          {
            tenantId: row.tenant_id,
            taskTypes: row.task_types,
            lendingApiUrl: row.lending_api_url,
          },
        ]),
      );
    },

    async findProcessedEvents(events) {
      const rows = await execute<{ tenant_id: string; event_id: string }>(
        tx,
        sql`
        select p.tenant_id, p.event_id::text from processed_events p
        join json_to_recordset(${tenantEventsParameter(events)}::json)
          as k(tenant_id text, event_id uuid)
          on p.tenant_id = k.tenant_id and p.event_id = k.event_id`,
      );
      return new Set(
        rows.map((row) => tenantEventKey({ tenantId: row.tenant_id, eventId: row.event_id })),
      );
    },

    async loadCustomers(keys) {
      const rows = await execute<CustomerRow>(tx, selectCustomersByKeys(keys));
      return new Map(
        rows.map((row) => [
          customerKeyId({ tenantId: row.tenant_id, externalId: row.external_id }),
          customerFromRow(row),
        ]),
      );
    },

    async saveCustomers(customers: StoredCustomer[]) {
      if (customers.length > 0) await execute(tx, upsertCustomers(customers));
    },

    async recordProcessedEvents(events: ProcessedEvent[]) {
      if (events.length === 0) return;
      const rows = events.map((event) => processedEventRow(event));
      // In key order: two transactions that record some of the same events wait for each other
      // in one order, never in a cycle.
      const inserted = await execute<{ event_id: string }>(
        tx,
        sql`
        insert into processed_events (event_id, tenant_id, external_id, outcome, occurred_at,
          source, stale_fields)
        select * from json_to_recordset(${JSON.stringify(rows)}::json)
          as r(event_id uuid, tenant_id text, external_id text, outcome text,
               occurred_at timestamptz, source text, stale_fields text[])
        order by tenant_id, event_id
        on conflict (tenant_id, event_id) do nothing
        returning event_id`,
      );
      if (inserted.length !== rows.length) {
        // The customer locks serialise every event of one customer, so only a tenant re-using
        // an eventId for another of its customers can race past them (another tenant's same
        // eventId is another key, SPEC §4.7). The retry finds the event recorded and treats
        // it as the duplicate it is; until the other transaction has ended, its insert waits.
        throw new CustomerSyncError(
          'apply.concurrent_duplicate',
          'an event id was recorded by another transaction',
          { canRetry: true },
        );
      }
    },

    async appendToOutbox(
      events: CustomerUpdated[],
      traceContexts?: ReadonlyArray<TraceContext | undefined>,
    ) {
      if (events.length === 0) return;
      const rows = events.map((event, position) => ({
        position,
        event_id: event.eventId,
        tenant_id: event.tenantId,
        external_id: event.externalId,
        payload: event,
        trace_parent: traceContexts?.[position]?.traceparent ?? null,
        trace_state: traceContexts?.[position]?.tracestate ?? null,
      }));
      // Inserted in batch order, so outbox ids follow each customer's order of changes. The
      // notification is sent at commit; issued with the insert, it costs no round trip.
      const inserted = execute(
        tx,
        sql`
        insert into outbox (event_id, tenant_id, external_id, payload, trace_parent, trace_state)
        select event_id, tenant_id, external_id, payload, trace_parent, trace_state
        from json_to_recordset(${JSON.stringify(rows)}::json)
          as r(position integer, event_id uuid, tenant_id text, external_id text, payload json,
               trace_parent text, trace_state text)
        order by position
        on conflict (tenant_id, event_id) do nothing`,
      );
      await Promise.all([inserted, execute(tx, sql`select pg_notify(${OUTBOX_CHANNEL}, '')`)]);
    },

    async findMetadataTombstones(paths) {
      const rows = await execute<TombstoneRow>(
        tx,
        sql`
        select t.tenant_id, t.external_id, t.path, t.stamp from metadata_tombstones t
        join json_to_recordset(${tombstonePathsParameter(paths)}::json)
          as k(tenant_id text, external_id text, path text)
          on t.tenant_id = k.tenant_id and t.external_id = k.external_id and t.path = k.path`,
      );
      return tombstonesByCustomer(rows);
    },

    async saveMetadataTombstones(tombstones) {
      const rows = tombstones.flatMap(({ tenantId, externalId, tombstones: byPath }) =>
        Object.entries(byPath).map(([path, stamp]) => ({
          tenant_id: tenantId,
          external_id: externalId,
          path,
          stamp,
        })),
      );
      if (rows.length === 0) return;
      // In key order, like every multi-row write here; stamps compare as plain strings (the
      // C collation), as in TypeScript (domain/stamp.ts).
      await execute(
        tx,
        sql`
        insert into metadata_tombstones (tenant_id, external_id, path, stamp)
        select * from json_to_recordset(${JSON.stringify(rows)}::json)
          as r(tenant_id text, external_id text, path text, stamp text)
        order by tenant_id, external_id, path
        on conflict (tenant_id, external_id, path) do update set stamp = excluded.stamp
        where metadata_tombstones.stamp collate "C" < excluded.stamp collate "C"`,
      );
    },

    // SPEC §6: enqueued in the batch's own transaction, so a committed request always has its
    // job and the partition never waits for the lending system.
    requestEnrichment: (requests) => enqueueEnrichmentJobs(tx, requests, execute),
  };
}

/** Events named by (tenant, eventId), as one JSON parameter for set-based SQL (SPEC §4.7). */
export function tenantEventsParameter(events: readonly TenantEvent[]): string {
  return JSON.stringify(
    events.map((event) => ({ tenant_id: event.tenantId, event_id: event.eventId })),
  );
}

export type TombstoneRow = { tenant_id: string; external_id: string; path: string; stamp: string };

/** Customers' metadata paths, as one JSON parameter of (tenant_id, external_id, path) rows. */
export function tombstonePathsParameter(
  paths: ReadonlyArray<CustomerKey & { paths: readonly string[] }>,
): string {
  return JSON.stringify(
    paths.flatMap(({ tenantId, externalId, paths: customerPaths }) =>
      customerPaths.map((path) => ({ tenant_id: tenantId, external_id: externalId, path })),
    ),
  );
}

/** Tombstone rows by customerKeyId; of two rows of one path, the greater stamp. */
export function tombstonesByCustomer(
  rows: readonly TombstoneRow[],
): Map<string, MetadataTombstones> {
  const byCustomer = new Map<string, MetadataTombstones>();
  for (const row of rows) {
    const id = customerKeyId({ tenantId: row.tenant_id, externalId: row.external_id });
    const tombstones = byCustomer.get(id) ?? {};
    const before = tombstones[row.path];
    if (before === undefined || row.stamp > before) tombstones[row.path] = row.stamp as Stamp;
    byCustomer.set(id, tombstones);
  }
  return byCustomer;
}

/**
 * A processed_events row as JSON for json_to_recordset, with the columns that are null left
 * out: every key costs Postgres parsing on the hot path (measured: the three audit columns
 * sent in full made the insert ~25 % slower, left out when empty ~10 %). occurredAt is kept
 * only for a request that lost a write, the one place it is read (`explain`'s stale writes);
 * every other writer's occurredAt is in the stamp it left.
 */
function processedEventRow(event: ProcessedEvent): Record<string, string | string[]> {
  const row: Record<string, string | string[]> = {
    event_id: event.eventId,
    tenant_id: event.tenantId,
    external_id: event.externalId,
    outcome: event.outcome,
  };
  if (event.source !== undefined) row.source = event.source;
  if (event.staleFields.length > 0) {
    row.stale_fields = event.staleFields;
    row.occurred_at = event.occurredAt;
  }
  return row;
}
