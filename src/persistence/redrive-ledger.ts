import { sql } from 'drizzle-orm';
import {
  type LetterPosition,
  letterPositionKey,
  type RedriveLedger,
  type RedriveRecord,
} from '../application/redrive-dead-letters.ts';
import { isoTimestamp } from './customer-rows.ts';
import type { Database } from './database.ts';

type PositionRow = { dlq_topic: string; dlq_partition: number; dlq_offset: string };

function positionsParameter(positions: readonly LetterPosition[]): string {
  return JSON.stringify(
    positions.map((position) => ({
      dlq_topic: position.topic,
      dlq_partition: position.partition,
      dlq_offset: position.offset,
    })),
  );
}

function keyOf(row: PositionRow): string {
  return letterPositionKey({
    topic: row.dlq_topic,
    partition: row.dlq_partition,
    offset: String(row.dlq_offset),
  });
}

/** The dlq_redrives rows of these letters, by letterPositionKey. */
export async function findRedrives(
  db: Database,
  positions: readonly LetterPosition[],
): Promise<Map<string, RedriveRecord>> {
  if (positions.length === 0) return new Map();
  const rows = await db.execute<
    PositionRow & { redriven_at: string; run_id: string; event_id: string | null }
  >(sql`
    select r.dlq_topic, r.dlq_partition, r.dlq_offset::text as dlq_offset,
      ${isoTimestamp('r.redriven_at')} as redriven_at, r.run_id::text as run_id,
      r.event_id::text as event_id
    from dlq_redrives r
    join jsonb_to_recordset(${positionsParameter(positions)}::jsonb)
      as p(dlq_topic text, dlq_partition integer, dlq_offset bigint)
      on r.dlq_topic = p.dlq_topic and r.dlq_partition = p.dlq_partition
     and r.dlq_offset = p.dlq_offset`);
  return new Map(
    rows.map((row) => [
      keyOf(row),
      { redrivenAt: row.redriven_at, runId: row.run_id, eventId: row.event_id },
    ]),
  );
}

/** The dlq_redrives table (schema.ts): one row per dead letter sent back. */
export function createRedriveLedger(
  db: Database,
  redrive: { runId: string; targetTopic: string },
): RedriveLedger {
  return {
    async redriven(positions) {
      return new Set((await findRedrives(db, positions)).keys());
    },

    async recordAndSend(entries, send) {
      if (entries.length === 0) return [];
      return db.transaction(async (tx) => {
        const rows = entries.map((entry) => ({
          dlq_topic: entry.position.topic,
          dlq_partition: entry.position.partition,
          dlq_offset: entry.position.offset,
          target_topic: redrive.targetTopic,
          error_code: entry.errorCode ?? null,
          event_id: entry.eventId ?? null,
          run_id: redrive.runId,
        }));
        // A concurrent redrive of the same letters waits here until this one commits or rolls
        // back, and then inserts nothing: each letter is sent by one redrive only.
        const inserted = await tx.execute<PositionRow>(sql`
          insert into dlq_redrives (dlq_topic, dlq_partition, dlq_offset, target_topic,
            error_code, event_id, run_id)
          select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
            as r(dlq_topic text, dlq_partition integer, dlq_offset bigint, target_topic text,
                 error_code text, event_id uuid, run_id uuid)
          on conflict do nothing
          returning dlq_topic, dlq_partition, dlq_offset::text as dlq_offset`);
        const recorded = new Set(inserted.map(keyOf));
        const fresh = entries.filter((entry) => recorded.has(letterPositionKey(entry.position)));
        // Kafka first, commit second: a failed send rolls the records back, so a rerun sends
        // them; a crash after the send re-sends them, which the service sees as duplicates.
        await send(fresh);
        return fresh;
      });
    },
  };
}
