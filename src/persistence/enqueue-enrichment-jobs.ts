import { sql } from 'drizzle-orm';
import type { CustomerUpdateRequest } from '../contracts/customer-update-requested.ts';
import {
  enrichmentRequestOf,
  mergeEnrichmentRequestsPerCustomer,
} from '../domain/enrichment-request.ts';
import type { DatabaseTransaction } from './database.ts';
import { executePrepared, type SqlExecutor } from './prepared-sql.ts';

/** Workers LISTEN on it to pick new jobs up at once instead of at their next poll. */
export const ENRICHMENT_CHANNEL = 'customer_sync_enrichment';

/**
 * SPEC §6: enqueues the enrichment the requests ask for, inside the caller's transaction,
 * deduplicated per customer. Requests of one customer in the batch fold into one (domain
 * mergeEnrichmentRequests); a customer that already has an active (pending or running) job gets
 * the request merged into it by the same rule, here in SQL: fill if either asked, the union of
 * loan ids (all if either asked for all), the later loan reference, the later cause. Merging
 * bumps the revision (a running worker then runs the job again when it finishes) and restarts
 * the deadline, which runs from the latest request.
 *
 * Lock order (SPEC §4.5): the caller holds the customers' locks; the job rows are taken after
 * them, in customer order, as every other writer of a job row with its customer takes them.
 */
export async function enqueueEnrichmentJobs(
  tx: DatabaseTransaction,
  requests: readonly CustomerUpdateRequest[],
  execute: SqlExecutor = executePrepared,
): Promise<void> {
  const merged = mergeEnrichmentRequestsPerCustomer(
    requests.flatMap((request) => enrichmentRequestOf(request) ?? []),
  );
  if (merged.length === 0) return;
  const rows = merged.map((request) => ({
    tenant_id: request.tenantId,
    external_id: request.externalId,
    fill_fields: request.fillFields,
    loan_ids: request.loans === 'all' ? null : request.loans,
    loan_reference_id: request.loanReferenceId ?? null,
    causation_id: request.causationId,
  }));
  await execute(
    tx,
    sql`
    insert into enrichment_jobs
      (tenant_id, external_id, fill_fields, loan_ids, loan_reference_id, causation_id)
    select tenant_id, external_id, fill_fields, loan_ids, loan_reference_id, causation_id
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(tenant_id text,
      external_id text, fill_fields boolean, loan_ids bigint[], loan_reference_id text,
      causation_id uuid)
    order by tenant_id, external_id
    on conflict (tenant_id, external_id) where state in ('pending', 'running') do update set
      fill_fields = enrichment_jobs.fill_fields or excluded.fill_fields,
      loan_ids = case
        when enrichment_jobs.loan_ids is null or excluded.loan_ids is null then null
        else array(select distinct id from unnest(enrichment_jobs.loan_ids || excluded.loan_ids) id
                   order by id)
      end,
      loan_reference_id = coalesce(excluded.loan_reference_id, enrichment_jobs.loan_reference_id),
      causation_id = excluded.causation_id,
      revision = enrichment_jobs.revision + 1,
      requested_at = now(),
      updated_at = now()`,
  );
  await execute(tx, sql`select pg_notify(${ENRICHMENT_CHANNEL}, '')`);
}
