import { connectDatabase } from '../../persistence/database.ts';
import {
  createEnrichmentJobStore,
  ENRICHMENT_JOB_STATES,
  type EnrichmentJobRow,
  type EnrichmentJobState,
} from '../../persistence/enrichment-job-store.ts';
import { loadCommandConfig } from '../load-command-config.ts';
import { reachDependencies } from '../reach-dependencies.ts';
import { parseCommandLine, UsageError, unknownAction } from '../usage-error.ts';

export const enrichmentHelp = `customer-sync enrichment list [--failed | --state S[,S…]] [--tenant T] [--limit N] [--json]
customer-sync enrichment retry (--failed | <jobId>…) [--tenant T]

Enrichment jobs (SPEC §6): one per customer and request burst, stored in Postgres.
  list    newest first (default 50); states: ${ENRICHMENT_JOB_STATES.join(', ')}.
          A failed job shows why (failure_reason) and the latest attempt's error code.
  retry   puts jobs back in the queue with fresh attempts and a fresh deadline: every failed job
          (--failed), or the jobs named (any finished state). Only the latest job of a customer
          is re-queued, and none for a customer that has a pending or running job already.
          A running service picks them up at once.`;

export async function enrichmentCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'list') return listJobs(rest);
  if (action === 'retry') return retryJobs(rest);
  throw unknownAction('enrichment', ['list', 'retry'], action);
}

async function withStore<T>(
  work: (store: ReturnType<typeof createEnrichmentJobStore>) => Promise<T>,
): Promise<T> {
  const config = loadCommandConfig(['database']);
  await reachDependencies(config, ['database']);
  const database = connectDatabase(config.database, {
    poolMax: 2,
    timeouts: config.database.timeouts,
  });
  try {
    return await work(createEnrichmentJobStore(database.db, database.sql));
  } finally {
    await database.close();
  }
}

async function listJobs(args: string[]): Promise<number> {
  const { values } = parseCommandLine(args, {
    failed: { type: 'boolean' },
    state: { type: 'string' },
    tenant: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.failed && values.state !== undefined)
    throw new UsageError('enrichment list: --failed and --state do not go together');
  const states = values.failed ? (['failed'] as EnrichmentJobState[]) : parseStates(values.state);
  const limitText = values.limit ?? '50';
  if (!/^\d+$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > 100_000)
    throw new UsageError('enrichment list: --limit must be a whole number from 1 to 100000');
  const jobs = await withStore((store) =>
    store.list({
      ...(states !== undefined ? { states } : {}),
      ...(values.tenant !== undefined ? { tenantId: values.tenant } : {}),
      limit: Number(limitText),
    }),
  );
  if (values.json) {
    for (const job of jobs) process.stdout.write(`${JSON.stringify(job)}\n`);
    return 0;
  }
  process.stdout.write(
    `${['id', 'state', 'tenant', 'externalId', 'attempts', 'lastError', 'failureReason', 'requestedAt', 'next/finished'].join('\t')}\n`,
  );
  for (const job of jobs) process.stdout.write(`${describeJob(job)}\n`);
  if (jobs.length === 0) process.stderr.write('enrichment list: no jobs match\n');
  return 0;
}

function describeJob(job: EnrichmentJobRow): string {
  const when = job.finishedAt ?? job.nextAttemptAt;
  return [
    job.id,
    job.state,
    job.tenantId,
    job.externalId,
    job.attempts,
    job.lastErrorCode ?? '-',
    job.failureReason ?? '-',
    job.requestedAt,
    when,
  ].join('\t');
}

async function retryJobs(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    args,
    { failed: { type: 'boolean' }, tenant: { type: 'string' } },
    true,
  );
  if (!values.failed && positionals.length === 0)
    throw new UsageError('enrichment retry: name job ids, or --failed for every failed job');
  if (values.failed && positionals.length > 0)
    throw new UsageError('enrichment retry: job ids and --failed do not go together');
  const bad = positionals.find((id) => !/^\d{1,15}$/.test(id));
  if (bad !== undefined) throw new UsageError('enrichment retry: job ids are whole numbers');
  const { requeued, skipped } = await withStore((store) =>
    store.requeue({
      states: values.failed ? ['failed'] : ['failed', 'no_data', 'succeeded'],
      ...(positionals.length > 0 ? { ids: positionals.map(Number) } : {}),
      ...(values.tenant !== undefined ? { tenantId: values.tenant } : {}),
    }),
  );
  process.stdout.write(
    `enrichment retry: re-queued ${requeued.length} job${requeued.length === 1 ? '' : 's'}${requeued.length > 0 ? ` (${requeued.join(', ')})` : ''}\n`,
  );
  if (skipped.length > 0) {
    process.stdout.write(
      `enrichment retry: left ${skipped.length} (${skipped.join(', ')}): an older job of a customer, or one with a pending or running job\n`,
    );
  }
  if (positionals.length > 0) {
    const found = new Set([...requeued, ...skipped]);
    const unknown = positionals.map(Number).filter((id) => !found.has(id));
    if (unknown.length > 0) {
      process.stderr.write(
        `enrichment retry: no finished job ${unknown.join(', ')} (unknown, or still pending/running)\n`,
      );
      return 1;
    }
  }
  return 0;
}

function parseStates(text: string | undefined): EnrichmentJobState[] | undefined {
  if (text === undefined) return undefined;
  const states = text.split(',').map((state) => state.trim());
  const unknown = states.find(
    (state) => !(ENRICHMENT_JOB_STATES as readonly string[]).includes(state),
  );
  if (unknown !== undefined)
    throw new UsageError(
      `enrichment list: --state takes ${ENRICHMENT_JOB_STATES.join(', ')} (comma-separated)`,
    );
  return states as EnrichmentJobState[];
}
