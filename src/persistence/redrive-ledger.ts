import { sql } from 'drizzle-orm';
import {
  type LetterPosition,
  letterPositionKey,
  type RedriveLedger,
} from '../application/redrive-dead-letters.ts';
import type { Database } from './database.ts';

type PositionRow = { dlq_topic: string; dlq_partition: number; dlq_offset: string };

function positionsParameter(positions: LetterPosition[]): string {
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

/** The dlq_redrives table (schema.ts): one row per dead letter sent back. */
export function createRedriveLedger(
  db: Database,
  redrive: { runId: string; targetTopic: string },
): RedriveLedger {
  return {
    async redriven(positions) {
      if (positions.length === 0) return new Set();
      const rows = await db.execute<PositionRow>(sql`
        select r.dlq_topic, r.dlq_partition, r.dlq_offset::text as dlq_offset
        from dlq_redrives r
        join jsonb_to_recordset(${positionsParameter(positions)}::jsonb)
          as p(dlq_topic text, dlq_partition integer, dlq_offset bigint)
          on r.dlq_topic = p.dlq_topic and r.dlq_partition = p.dlq_partition
         and r.dlq_offset = p.dlq_offset`);
      return new Set(rows.map(keyOf));
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
