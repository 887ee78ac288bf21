import { sql } from 'drizzle-orm';
import type { CustomerKey } from '../domain/customer-key.ts';
import { keysParameter } from './customer-rows.ts';
import type { DatabaseTransaction } from './database.ts';
import { executePrepared, type SqlExecutor } from './prepared-sql.ts';

/**
 * Serialises every writer of these customers until the transaction ends: the batch apply
 * (SPEC §4.3) and enrichment (SPEC §6) alike, so that per-customer outbox order is commit order
 * (SPEC §4.6). One transaction-scoped advisory lock per customer, keyed by a 64-bit hash of the
 * pair; a collision only serialises two customers needlessly. The keys are locked in sorted
 * order, so two transactions that share customers never deadlock.
 */
export async function lockCustomers(
  tx: DatabaseTransaction,
  keys: CustomerKey[],
  execute: SqlExecutor = executePrepared,
): Promise<void> {
  if (keys.length === 0) return;
  await execute(
    tx,
    sql`
    select pg_advisory_xact_lock(h) from (
      select distinct hashtextextended(jsonb_build_array(k.tenant_id, k.external_id)::text, 0) as h
      from json_to_recordset(${keysParameter(keys)}::json) as k(tenant_id text, external_id text)
      order by h
    ) ordered`,
  );
}
