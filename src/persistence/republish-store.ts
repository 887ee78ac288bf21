import { type SQL, sql } from 'drizzle-orm';
import type { Sql } from 'postgres';
import type {
  RepublishRun,
  RepublishSelection,
  RepublishStore,
} from '../application/republish-snapshots.ts';
import { customerKeyId } from '../domain/customer-key.ts';
import { CustomerSyncError } from '../errors.ts';
import type { Database, DatabaseTransaction } from './database.ts';
import { createOutboxStore } from './outbox-store.ts';
import { transactionOf } from './update-batch-store.ts';

type RunRow = {
  run_id: string;
  tenant_id: string | null;
  external_ids: string[] | null;
  updated_since: string | null;
  after_tenant_id: string | null;
  after_external_id: string | null;
  published: number;
  finished_at: string | null;
};

function runFromRow(row: RunRow): RepublishRun {
  const selection: RepublishSelection = {};
  if (row.tenant_id !== null) selection.tenantId = row.tenant_id;
  if (row.external_ids !== null) selection.externalIds = row.external_ids;
  if (row.updated_since !== null) selection.updatedSince = row.updated_since;
  return {
    runId: row.run_id,
    selection,
    after:
      row.after_tenant_id !== null && row.after_external_id !== null
        ? { tenantId: row.after_tenant_id, externalId: row.after_external_id }
        : undefined,
    published: row.published,
    finishedAt: row.finished_at ?? undefined,
  };
}

const RUN_COLUMNS = sql`run_id::text, tenant_id, external_ids,
  to_char(updated_since at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as updated_since,
  after_tenant_id, after_external_id, published,
  to_char(finished_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as finished_at`;

/** The selected customers after the run's position, in primary-key order (keyset pagination). */
function selectedAfter(run: RepublishRun): SQL {
  const { tenantId, externalIds, updatedSince } = run.selection;
  const conditions: SQL[] = [sql`true`];
  if (tenantId !== undefined) conditions.push(sql`c.tenant_id = ${tenantId}`);
  if (externalIds !== undefined)
    conditions.push(
      sql`c.external_id in (select jsonb_array_elements_text(${JSON.stringify(externalIds)}::jsonb))`,
    );
  if (updatedSince !== undefined)
    conditions.push(sql`c.updated_at >= ${updatedSince}::timestamptz`);
  if (run.after !== undefined)
    conditions.push(
      sql`(c.tenant_id, c.external_id) > (${run.after.tenantId}, ${run.after.externalId})`,
    );
  return sql.join(conditions, sql` and `);
}

/** Republish runs in the republish_runs table; customers through the batch store's statements. */
export function createRepublishStore(db: Database, client: Sql): RepublishStore {
  const outbox = createOutboxStore(client);

  async function readRun(tx: Database | DatabaseTransaction, runId: string) {
    const rows = await tx.execute<RunRow>(
      sql`select ${RUN_COLUMNS} from republish_runs where run_id = ${runId}::uuid`,
    );
    const row = rows[0];
    if (row === undefined)
      throw new CustomerSyncError('republish.run_missing', 'the republish run is gone', {
        canRetry: false,
      });
    return runFromRow(row);
  }

  return {
    async startOrResume(runId, selection) {
      await db.execute(sql`
        insert into republish_runs (run_id, tenant_id, external_ids, updated_since)
        values (${runId}::uuid, ${selection.tenantId ?? null},
          ${
            selection.externalIds
              ? sql`array(select jsonb_array_elements_text(${JSON.stringify(selection.externalIds)}::jsonb))`
              : sql`null`
          },
          ${selection.updatedSince ?? null}::timestamptz)
        on conflict (run_id) do nothing`);
      return readRun(db, runId);
    },

    async countRemaining(run) {
      const rows = await db.execute<{ count: number }>(
        sql`select count(*)::int as count from customers c where ${selectedAfter(run)}`,
      );
      return rows[0]?.count ?? 0;
    },

    async publishNextPage(run, limit, announce) {
      return db.transaction(async (tx) => {
        const keys = await tx.execute<{ tenant_id: string; external_id: string }>(sql`
          select c.tenant_id, c.external_id from customers c where ${selectedAfter(run)}
          order by c.tenant_id, c.external_id limit ${limit}`);
        if (keys.length === 0) return { run, published: 0 };
        const batch = transactionOf(tx);
        const pairs = keys.map((key) => ({ tenantId: key.tenant_id, externalId: key.external_id }));
        // Locked like every writer, so this snapshot takes its place in each customer's outbox
        // order (SPEC §4.6) and is never older than a change announced before it.
        await batch.lockCustomers(pairs);
        const customers = await batch.loadCustomers(pairs);
        const events = pairs.flatMap((key) => {
          const customer = customers.get(customerKeyId(key));
          return customer ? [announce(customer)] : [];
        });
        await batch.appendToOutbox(events);
        const last = pairs[pairs.length - 1] as { tenantId: string; externalId: string };
        // Moves the position only from where this page started: two processes resuming the
        // same run cannot both announce a page.
        const moved = await tx.execute<{ run_id: string }>(sql`
          update republish_runs set after_tenant_id = ${last.tenantId},
            after_external_id = ${last.externalId}, published = published + ${events.length},
            updated_at = now()
          where run_id = ${run.runId}::uuid
            and after_tenant_id is not distinct from ${run.after?.tenantId ?? null}
            and after_external_id is not distinct from ${run.after?.externalId ?? null}
          returning run_id`);
        if (moved.length !== 1) {
          throw new CustomerSyncError(
            'republish.run_busy',
            'another process is running this republish run',
            { canRetry: false },
          );
        }
        return { run: await readRun(tx, run.runId), published: events.length };
      });
    },

    async finish(run) {
      await db.execute(sql`
        update republish_runs set finished_at = coalesce(finished_at, now()), updated_at = now()
        where run_id = ${run.runId}::uuid`);
      return readRun(db, run.runId);
    },

    async outboxBacklog() {
      return (await outbox.backlog()).count;
    },
  };
}
