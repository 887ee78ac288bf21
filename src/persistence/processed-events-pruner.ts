import type { Sql } from 'postgres';

/**
 * Deletes event ids older than the retention, a bounded batch at a time so that pruning never
 * holds long locks. Safe (README, guarantee 2): an event replayed after its id was pruned still
 * changes nothing, because every field it would write carries its stamp or a newer one.
 */
export async function pruneProcessedEvents(
  sql: Sql,
  retentionDays: number,
  batchSize = 10_000,
): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await sql`
      delete from processed_events where event_id in (
        select event_id from processed_events
        where processed_at < now() - make_interval(days => ${retentionDays})
        limit ${batchSize})`;
    total += deleted.count;
    if (deleted.count < batchSize) return total;
  }
}
