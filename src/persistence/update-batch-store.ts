import { sql } from 'drizzle-orm';
import type {
  ProcessedOutcome,
  UpdateBatchStore,
  UpdateBatchTransaction,
} from '../application/apply-update-batch.ts';
import type { CustomerUpdated } from '../contracts/customer-updated.ts';
import { type CustomerKey, customerKeyId } from '../domain/customer-key.ts';
import type { StoredCustomer } from '../domain/customer-snapshot.ts';
import type { TenantConfiguration } from '../domain/tenant-rules.ts';
import { CustomerSyncError } from '../errors.ts';
import {
  CUSTOMER_COLUMNS,
  CUSTOMER_RECORDSET,
  type CustomerRow,
  customerFromRow,
  customerToRow,
  keysParameter,
} from './customer-rows.ts';
import type { Database } from './database.ts';

type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

/**
 * The batch transaction in set-based SQL: a fixed handful of statements per batch whatever its
 * size, each taking its rows as one jsonb parameter (SPEC §4.1, §4.2, §4.6).
 */
export function createUpdateBatchStore(db: Database): UpdateBatchStore {
  return {
    inTransaction: (work) => db.transaction((tx) => work(transactionOf(tx))),
  };
}

export function transactionOf(tx: Transaction): UpdateBatchTransaction {
  return {
    async lockCustomers(keys) {
      if (keys.length === 0) return;
      // Sorted, so two batches that share customers always lock in the same order: no deadlock.
      await tx.execute(sql`
        select pg_advisory_xact_lock(h) from (
          select distinct hashtextextended(jsonb_build_array(k->'tenant_id', k->'external_id')::text, 0) as h
          from jsonb_array_elements(${keysParameter(keys)}::jsonb) k
          order by h
        ) ordered`);
    },

    async findTenants(tenantIds) {
      const rows = await tx.execute<{
        tenant_id: string;
        task_types: string[];
        lending_api_url: string | null;
      }>(sql`
        select tenant_id, task_types, lending_api_url from tenants
        where tenant_id in (select jsonb_array_elements_text(${JSON.stringify(tenantIds)}::jsonb))`);
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

    async findProcessedEventIds(eventIds) {
      const rows = await tx.execute<{ event_id: string }>(sql`
        select event_id::text from processed_events
        where event_id in (select jsonb_array_elements_text(${JSON.stringify(eventIds)}::jsonb)::uuid)`);
      return new Set(rows.map((row) => row.event_id));
    },

    async loadCustomers(keys) {
      const rows = await tx.execute<CustomerRow>(sql`
        select ${CUSTOMER_COLUMNS} from customers c
        join jsonb_to_recordset(${keysParameter(keys)}::jsonb) as k(tenant_id text, external_id text)
          on c.tenant_id = k.tenant_id and c.external_id = k.external_id`);
      return new Map(
        rows.map((row) => [
          customerKeyId({ tenantId: row.tenant_id, externalId: row.external_id }),
          customerFromRow(row),
        ]),
      );
    },

    async saveCustomers(customers: StoredCustomer[]) {
      if (customers.length === 0) return;
      await tx.execute(sql`
        insert into customers (tenant_id, external_id, task_type, first_name, last_name, email,
          birthday, ssn_last4, timezone, phone, address1, address2, city, state, zip, do_not_call,
          is_test, metadata, field_stamps, metadata_registers, version, created_at, updated_at)
        select * from jsonb_to_recordset(${JSON.stringify(customers.map(customerToRow))}::jsonb)
          as r${CUSTOMER_RECORDSET}
        on conflict (tenant_id, external_id) do update set
          task_type = excluded.task_type, first_name = excluded.first_name,
          last_name = excluded.last_name, email = excluded.email, birthday = excluded.birthday,
          ssn_last4 = excluded.ssn_last4, timezone = excluded.timezone, phone = excluded.phone,
          address1 = excluded.address1, address2 = excluded.address2, city = excluded.city,
          state = excluded.state, zip = excluded.zip, do_not_call = excluded.do_not_call,
          is_test = excluded.is_test, metadata = excluded.metadata,
          field_stamps = excluded.field_stamps, metadata_registers = excluded.metadata_registers,
          version = excluded.version, updated_at = excluded.updated_at`);
    },

    async recordProcessedEvents(
      events: Array<CustomerKey & { eventId: string; outcome: ProcessedOutcome }>,
    ) {
      if (events.length === 0) return;
      const rows = events.map((event) => ({
        event_id: event.eventId,
        tenant_id: event.tenantId,
        external_id: event.externalId,
        outcome: event.outcome,
      }));
      const inserted = await tx.execute<{ event_id: string }>(sql`
        insert into processed_events (event_id, tenant_id, external_id, outcome)
        select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          as r(event_id uuid, tenant_id text, external_id text, outcome text)
        on conflict (event_id) do nothing
        returning event_id`);
      if (inserted.length !== rows.length) {
        // Only an eventId re-used for another customer can race past the customer lock; the
        // retry sees it as processed and treats it as the duplicate it is.
        throw new CustomerSyncError(
          'apply.concurrent_duplicate',
          'an event id was recorded by another transaction',
          {
            canRetry: true,
          },
        );
      }
    },

    async appendToOutbox(events: CustomerUpdated[]) {
      if (events.length === 0) return;
      const rows = events.map((event, position) => ({
        position,
        event_id: event.eventId,
        tenant_id: event.tenantId,
        external_id: event.externalId,
        payload: event,
      }));
      // Inserted in batch order, so outbox ids follow each customer's order of changes.
      await tx.execute(sql`
        insert into outbox (event_id, tenant_id, external_id, payload)
        select event_id, tenant_id, external_id, payload
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          as r(position integer, event_id uuid, tenant_id text, external_id text, payload jsonb)
        order by position
        on conflict (event_id) do nothing`);
      await tx.execute(sql`select pg_notify('customer_sync_outbox', '')`);
    },
  };
}
