import type { ReservedSql, Sql } from 'postgres';

export interface OutboxEntry {
  id: string;
  eventId: string;
  tenantId: string;
  externalId: string;
  payload: unknown;
}

/** Holding it makes this replica the only outbox relay: per-customer order needs one reader. */
export interface RelayLease {
  readBatch(limit: number): Promise<OutboxEntry[]>;
  deletePublished(ids: string[]): Promise<void>;
  release(): Promise<void>;
}

export interface OutboxStore {
  /** the lease if no other replica holds it, else undefined */
  tryAcquireRelayLease(): Promise<RelayLease | undefined>;
  backlog(): Promise<{ count: number; oldestAgeSeconds: number }>;
  /** calls `onWrite` whenever any replica commits outbox rows; resolves to an unsubscribe */
  listen(onWrite: () => void): Promise<() => Promise<void>>;
}

/** An arbitrary constant naming the relay's advisory lock. */
const RELAY_LOCK_ID = '7301964220119';
export const OUTBOX_CHANNEL = 'customer_sync_outbox';

/**
 * The lease is a session advisory lock on a connection reserved for the relay; every relay
 * query runs on that connection, so a relay that lost its connection also lost its lease and
 * notices at its next query.
 */
export function createOutboxStore(sql: Sql): OutboxStore {
  return {
    async tryAcquireRelayLease() {
      const connection: ReservedSql = await sql.reserve();
      try {
        const [row] = await connection<
          { acquired: boolean }[]
        >`select pg_try_advisory_lock(${RELAY_LOCK_ID}::bigint) as acquired`;
        if (!row?.acquired) {
          connection.release();
          return undefined;
        }
      } catch (error) {
        connection.release();
        throw error;
      }
      return {
        async readBatch(limit) {
          const rows = await connection<
            {
              id: string;
              event_id: string;
              tenant_id: string;
              external_id: string;
              payload: unknown;
            }[]
          >`
            select id::text, event_id::text, tenant_id, external_id, payload
            from outbox order by id limit ${limit}`;
          return rows.map((row) => ({
            id: row.id,
            eventId: row.event_id,
            tenantId: row.tenant_id,
            externalId: row.external_id,
            payload: row.payload,
          }));
        },
        async deletePublished(ids) {
          await connection`delete from outbox where id = any(${ids}::bigint[])`;
        },
        async release() {
          try {
            await connection`select pg_advisory_unlock(${RELAY_LOCK_ID}::bigint)`;
          } finally {
            connection.release();
          }
        },
      };
    },
    async backlog() {
      const [row] = await sql<{ count: number; oldest_age_seconds: number | null }[]>`
        select count(*)::int as count,
               extract(epoch from now() - min(created_at))::float8 as oldest_age_seconds
        from outbox`;
      return { count: row?.count ?? 0, oldestAgeSeconds: row?.oldest_age_seconds ?? 0 };
    },
    async listen(onWrite) {
      const subscription = await sql.listen(OUTBOX_CHANNEL, () => onWrite());
      return () => subscription.unlisten();
    },
  };
}
