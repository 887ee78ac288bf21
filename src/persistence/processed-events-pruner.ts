import type { Sql } from 'postgres';
import { sleep } from '../application/retry-policy.ts';
import { describeFailure } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';

/** The maintenance_runs row of this task (schema.ts). */
const PRUNE_TASK = 'prune_processed_events';

/**
 * Deletes event ids older than the retention, a bounded batch per statement so that pruning
 * never holds long locks, and stops between batches when `signal` aborts. Safe (README,
 * guarantee 2): an event replayed after its id was pruned still changes nothing, because every
 * field it would write carries its stamp or a newer one.
 */
export async function pruneProcessedEvents(
  sql: Sql,
  retentionDays: number,
  batchSize = 10_000,
  signal?: AbortSignal,
): Promise<number> {
  let total = 0;
  while (!signal?.aborted) {
    const deleted = await sql`
      delete from processed_events where (tenant_id, event_id) in (
        select tenant_id, event_id from processed_events
        where processed_at < now() - make_interval(days => ${retentionDays})
        limit ${batchSize})`;
    total += deleted.count;
    if (deleted.count < batchSize) break;
  }
  return total;
}

/**
 * Claims this interval's prune for the calling replica: true for exactly one caller per
 * `intervalMs` across every replica, measured on the database's clock from the last claim, so
 * the schedule does not depend on any replica's uptime (a replica restarted every ten minutes
 * still prunes when it is due) and replicas never prune all at once.
 */
export async function claimPruneRun(sql: Sql, intervalMs: number): Promise<boolean> {
  // A concurrent claim waits on the row, then sees the moved last_started_at and gets nothing.
  const rows = await sql`
    insert into maintenance_runs (task, last_started_at) values (${PRUNE_TASK}, now())
    on conflict (task) do update set last_started_at = now()
    where maintenance_runs.last_started_at
          <= now() - make_interval(secs => ${intervalMs / 1_000})
    returning task`;
  return rows.length === 1;
}

async function recordPruneRun(sql: Sql, deleted: number): Promise<void> {
  await sql`
    update maintenance_runs set last_finished_at = now(), last_deleted = ${deleted}
    where task = ${PRUNE_TASK}`;
}

export interface ProcessedEventsPruningOptions {
  sql: Sql;
  retentionDays: number;
  /** at most one prune per this long, across all replicas */
  intervalMs: number;
  /** how often each replica asks whether a prune is due */
  checkEveryMs: number;
  /** the first ask, soon after start (jittered by the caller so replicas do not ask together) */
  firstCheckAfterMs: number;
  batchSize?: number;
  logger: Logger;
  onPruned?: (count: number) => void;
}

export interface ProcessedEventsPruning {
  /** stops asking; a prune under way stops after its current batch */
  stop(): Promise<void>;
}

/**
 * SPEC §4.2 housekeeping: every replica asks soon after start and then every `checkEveryMs`
 * whether a prune is due (claimPruneRun), and the one that gets it prunes. Must never throw:
 * a failure is logged and the next check tries again.
 */
export function startProcessedEventsPruning(
  options: ProcessedEventsPruningOptions,
): ProcessedEventsPruning {
  const stopping = new AbortController();
  const log = options.logger.child({ component: 'processed-events-pruner' });

  async function pruneIfDue() {
    try {
      if (!(await claimPruneRun(options.sql, options.intervalMs))) return;
      const count = await pruneProcessedEvents(
        options.sql,
        options.retentionDays,
        options.batchSize,
        stopping.signal,
      );
      await recordPruneRun(options.sql, count);
      options.onPruned?.(count);
      if (count > 0) log.info({ count }, 'pruned processed event ids past retention');
    } catch (error) {
      log.warn({ failure: describeFailure(error) }, 'pruning processed event ids failed');
    }
  }

  const loop = (async () => {
    await sleep(options.firstCheckAfterMs, stopping.signal);
    while (!stopping.signal.aborted) {
      await pruneIfDue();
      await sleep(options.checkEveryMs, stopping.signal);
    }
  })();

  return {
    async stop() {
      stopping.abort();
      await loop;
    },
  };
}
