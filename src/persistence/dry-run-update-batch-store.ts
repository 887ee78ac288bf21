import { sql } from 'drizzle-orm';
import { TransactionRollbackError } from 'drizzle-orm/errors';
import type {
  UpdateBatchStore,
  UpdateBatchTransaction,
} from '../application/apply-update-batch.ts';
import type { CustomerKey } from '../domain/customer-key.ts';
import { tenantEventKey } from '../domain/tenant-event-key.ts';
import { CustomerSyncError, describeFailure } from '../errors.ts';
import { keysParameter } from './customer-rows.ts';
import type { Database, DatabaseTransaction } from './database.ts';
import {
  type TombstoneRow,
  tenantEventsParameter,
  tombstonePathsParameter,
  tombstonesByCustomer,
  transactionOf,
} from './update-batch-store.ts';

/** The tables the apply path writes; a dry run writes private copies of them instead. */
const SHADOWED_TABLES = ['customers', 'processed_events', 'outbox', 'metadata_tombstones'] as const;

/** SQLSTATE read_only_sql_transaction: something wrote to a table that is not shadowed. */
const READ_ONLY_VIOLATION = '25006';

export interface DryRunStore {
  store: UpdateBatchStore;
  /** set when the apply path wrote outside the shadow tables: the dry run cannot be trusted */
  failure(): CustomerSyncError | undefined;
}

/**
 * `replay --dry-run`: runs the very statements of the batch transaction (transactionOf), so
 * what it reports is what a replay would do, but against session-private temporary copies of
 * the tables the apply path writes. Postgres looks temporary tables up first, so the same
 * unqualified SQL lands in them; each customer and processed eventId is copied in from the
 * real table the first time a batch touches it, so one chunk sees the effects of the chunks
 * before it, exactly as a real replay would.
 *
 * Safe by construction: the whole dry run is one transaction that is switched to read-only
 * after the copies exist (Postgres then refuses any write to a real table) and is rolled back
 * at the end; it takes no customer locks, so the live service never waits for it. Each chunk
 * runs in a savepoint, so a chunk the database rejects does not end the dry run.
 *
 * `db` must be a connection of its own with nothing prepared on it yet, so that every
 * statement is planned after the temporary tables exist.
 */
export async function withDryRunUpdateBatchStore<T>(
  db: Database,
  work: (dryRun: DryRunStore) => Promise<T>,
): Promise<T> {
  let result: { value: T } | undefined;
  try {
    await db.transaction(async (tx) => {
      const realSchema = await schemaOfCustomers(tx);
      for (const table of SHADOWED_TABLES) {
        await tx.execute(
          sql`create temporary table ${sql.identifier(table)} (like ${sql.identifier(realSchema)}.${sql.identifier(table)} including all) on commit drop`,
        );
      }
      await checkShadowed(tx);
      await tx.execute(sql`set local transaction_read_only = on`);

      let failure: CustomerSyncError | undefined;
      // One transaction is one connection: chunks of several partitions take turns in it.
      let turn: Promise<unknown> = Promise.resolve();
      const store: UpdateBatchStore = {
        async inTransaction(inner) {
          const mine = turn.then(() =>
            tx.transaction((savepoint) => inner(shadowTransactionOf(savepoint, realSchema))),
          );
          turn = mine.catch(() => {});
          try {
            return await mine;
          } catch (error) {
            if (describeFailure(error).code === READ_ONLY_VIOLATION) {
              failure ??= new CustomerSyncError(
                'replay.dry_run_unshadowed_write',
                'the apply path wrote to a table the dry run does not shadow; the dry run stopped',
                { canRetry: false, cause: error },
              );
            }
            throw error;
          }
        },
      };
      result = { value: await work({ store, failure: () => failure }) };
      tx.rollback();
    });
  } catch (error) {
    if (!(error instanceof TransactionRollbackError)) throw error;
  }
  if (result === undefined) throw new Error('the dry run ended without a result');
  return result.value;
}

function shadowTransactionOf(tx: DatabaseTransaction, realSchema: string): UpdateBatchTransaction {
  // Enrichment jobs are not requested: a dry run reports what the batch itself would do.
  const { requestEnrichment: _notInADryRun, ...statements } = transactionOf(tx);
  const real = (table: string) => sql`${sql.identifier(realSchema)}.${sql.identifier(table)}`;
  // The batch asks for its customers before the "lock" has answered; they are read once the
  // copy is in (drizzle's execute, which the copy takes, sends later than the prepared reads).
  let copied: Promise<void> = Promise.resolve();
  // No lock: nothing real is written, so nothing must wait for the dry run. Instead, the
  // customers this batch reads are copied in (once) from the real table.
  async function copyCustomers(keys: CustomerKey[]): Promise<void> {
    if (keys.length === 0) return;
    await tx.execute(sql`
      insert into customers
      select c.* from ${real('customers')} c
      join jsonb_to_recordset(${keysParameter(keys)}::jsonb) as k(tenant_id text, external_id text)
        on c.tenant_id = k.tenant_id and c.external_id = k.external_id
      on conflict do nothing`);
  }
  return {
    ...statements,
    lockCustomers(keys) {
      copied = copyCustomers(keys);
      return copied;
    },
    async loadCustomers(keys) {
      await copied;
      return statements.loadCustomers(keys);
    },
    async findMetadataTombstones(paths) {
      const keys = tombstonePathsParameter(paths);
      const rows = await tx.execute<TombstoneRow>(sql`
        select t.tenant_id, t.external_id, t.path, t.stamp from metadata_tombstones t
        join jsonb_to_recordset(${keys}::jsonb) as k(tenant_id text, external_id text, path text)
          on t.tenant_id = k.tenant_id and t.external_id = k.external_id and t.path = k.path
        union all
        select t.tenant_id, t.external_id, t.path, t.stamp from ${real('metadata_tombstones')} t
        join jsonb_to_recordset(${keys}::jsonb) as k(tenant_id text, external_id text, path text)
          on t.tenant_id = k.tenant_id and t.external_id = k.external_id and t.path = k.path`);
      return tombstonesByCustomer([...rows]);
    },
    async findProcessedEvents(events) {
      const keys = tenantEventsParameter(events);
      const rows = await tx.execute<{ tenant_id: string; event_id: string }>(sql`
        select p.tenant_id, p.event_id::text from processed_events p
        join jsonb_to_recordset(${keys}::jsonb) as k(tenant_id text, event_id uuid)
          on p.tenant_id = k.tenant_id and p.event_id = k.event_id
        union
        select p.tenant_id, p.event_id::text from ${real('processed_events')} p
        join jsonb_to_recordset(${keys}::jsonb) as k(tenant_id text, event_id uuid)
          on p.tenant_id = k.tenant_id and p.event_id = k.event_id`);
      return new Set(
        rows.map((row) => tenantEventKey({ tenantId: row.tenant_id, eventId: row.event_id })),
      );
    },
  };
}

async function schemaOfCustomers(tx: DatabaseTransaction): Promise<string> {
  const rows = await tx.execute<{ schema: string }>(sql`
    select n.nspname as schema from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.oid = 'customers'::regclass`);
  const schema = rows[0]?.schema;
  if (schema === undefined)
    throw new CustomerSyncError('replay.no_customers_table', 'the customers table is missing', {
      canRetry: false,
    });
  return schema;
}

/** Refuses to go on unless every unqualified table name now means the temporary copy. */
async function checkShadowed(tx: DatabaseTransaction): Promise<void> {
  const rows = await tx.execute<{ name: string; temporary: boolean }>(sql`
    select t.name, (select relpersistence = 't' from pg_class where oid = to_regclass(t.name)) as temporary
    from unnest(${`{${SHADOWED_TABLES.join(',')}}`}::text[]) as t(name)`);
  if (rows.length !== SHADOWED_TABLES.length || rows.some((row) => row.temporary !== true)) {
    throw new CustomerSyncError(
      'replay.dry_run_not_shadowed',
      'the dry run could not shadow the tables it writes; nothing was done',
      { canRetry: false },
    );
  }
}
