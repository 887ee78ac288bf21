import postgres, { type Sql } from 'postgres';
import { ATTEMPT_TIMED_OUT, withDeadline } from '../application/retry-policy.ts';
import { CustomerSyncError, describeFailure } from '../errors.ts';
import {
  type DatabaseTimeouts,
  reconnectDelaySeconds,
  sessionTimeoutParameters,
} from './database.ts';

export interface OutboxEntry {
  id: string;
  eventId: string;
  tenantId: string;
  externalId: string;
  /**
   * The customer.updated event as the JSON text the outbox holds: the JSON relay publishes it
   * as it is, without parsing and writing it again (a tenth of the relay's CPU, bench/).
   */
  payloadJson: string;
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
  /** closes the connection kept for the next lease attempt, if any */
  close(): Promise<void>;
}

/** An arbitrary constant naming the relay's advisory lock. */
const RELAY_LOCK_ID = '7301964220119';
export const OUTBOX_CHANNEL = 'customer_sync_outbox';

/**
 * The longest a relay query may take before the lease is given up; the relay then retries
 * with a new connection. A hung query would otherwise stop every announcement (SPEC §4.6).
 */
const LEASE_QUERY_TIMEOUT_MS = 15_000;

function leaseLost(message: string, cause?: unknown): CustomerSyncError {
  return new CustomerSyncError('outbox.lease_lost', message, { canRetry: true, cause });
}

/** Runs a lease query with a deadline; past it the client is closed, which fails the query. */
async function withLeaseDeadline<T>(client: Sql, query: Promise<T>): Promise<T> {
  try {
    return await withDeadline(() => query, LEASE_QUERY_TIMEOUT_MS);
  } catch (error) {
    if (describeFailure(error).code !== ATTEMPT_TIMED_OUT) throw error;
    void endClient(client);
    throw leaseLost(`a relay query took longer than ${LEASE_QUERY_TIMEOUT_MS} ms`, error);
  }
}

/**
 * Closes a lease client, giving up waiting after a few seconds: the relay must not hang on a
 * connection that is already gone, whatever state postgres.js left it in.
 */
async function endClient(client: Sql): Promise<void> {
  await withDeadline(() => client.end({ timeout: 1 }), 3_000).catch(() => {});
}

export interface OutboxStoreOptions {
  /**
   * The database the relay lease connects to, on a connection of its own (see below). Only
   * the service's relay needs it; without it tryAcquireRelayLease fails.
   */
  leaseDatabaseUrl?: string;
  /** the lease connection's session limits (DATABASE_*_TIMEOUT_MS) */
  timeouts?: Partial<DatabaseTimeouts>;
}

/**
 * The lease is a session advisory lock on a connection of its own (a postgres.js client with
 * one connection), not `sql.reserve()` from the pool: in postgres.js 3.4.9 a reserved
 * connection that died makes the next query on it hang for ever or throw an uncaught
 * TypeError, and a waiting reserve() can be stranded for ever (porsager/postgres#1195), so a
 * single database outage stopped the relay for good. postgres.js reconnects silently, so
 * every read first checks that the session is still the one that took the lock; any failure
 * ends the client, and the relay takes a new lease on a new connection after its backoff.
 * A replica that did not get the lock keeps its connection for the next try.
 */
export function createOutboxStore(sql: Sql, options: OutboxStoreOptions = {}): OutboxStore {
  let standby: Sql | undefined;

  function connectLeaseClient(url: string): Sql {
    return postgres(url, {
      max: 1,
      onnotice: () => {},
      // No array types are needed here, and fetching them on a connection that dies at that
      // moment is an unhandled rejection in postgres.js 3.4.9 (porsager/postgres#1192).
      fetch_types: false,
      connection: {
        application_name: 'customer-sync-relay',
        ...sessionTimeoutParameters(options.timeouts),
      },
      // The pool's capped reconnect delay: a standby client must not wait 20 s after an outage.
      backoff: reconnectDelaySeconds,
    });
  }

  return {
    async tryAcquireRelayLease() {
      if (options.leaseDatabaseUrl === undefined)
        throw new CustomerSyncError(
          'outbox.lease_unsupported',
          'this outbox store was created without a lease database',
          { canRetry: false },
        );
      const client = standby ?? connectLeaseClient(options.leaseDatabaseUrl);
      standby = undefined;
      const close = () => endClient(client);
      let sessionPid: number;
      try {
        const [row] = await withLeaseDeadline(
          client,
          client<{ pid: number; acquired: boolean }[]>`
            select pg_backend_pid() as pid,
                   pg_try_advisory_lock(${RELAY_LOCK_ID}::bigint) as acquired`,
        );
        if (!row?.acquired) {
          standby = client;
          return undefined;
        }
        sessionPid = row.pid;
      } catch (error) {
        await close();
        throw error;
      }

      async function onLeaseSession<T>(query: () => Promise<T>): Promise<T> {
        const [row] = await withLeaseDeadline(
          client,
          client<{ pid: number }[]>`select pg_backend_pid() as pid`,
        );
        if (row?.pid !== sessionPid)
          throw leaseLost('the relay connection was replaced; its lease went with it');
        return withLeaseDeadline(client, query());
      }

      return {
        async readBatch(limit) {
          // `order by outbox.id`, not `id`: a bare name in ORDER BY means the output column,
          // id::text, and text order ('10' < '9') would break per-customer order (SPEC §4.6).
          const rows = await onLeaseSession(
            () => client<
              {
                id: string;
                event_id: string;
                tenant_id: string;
                external_id: string;
                payload_json: string;
              }[]
            >`
              select id::text, event_id::text, tenant_id, external_id, payload::text as payload_json
              from outbox order by outbox.id limit ${limit}`,
          );
          return rows.map((row) => ({
            id: row.id,
            eventId: row.event_id,
            tenantId: row.tenant_id,
            externalId: row.external_id,
            payloadJson: row.payload_json,
          }));
        },
        async deletePublished(ids) {
          // Published is published: deleting needs no lease, so no session check here. The ids
          // go as one text parameter: a bigint[] parameter would need the array types.
          await withLeaseDeadline(
            client,
            client`
              delete from outbox
              where id = any(string_to_array(${ids.join(',')}, ',')::bigint[])`,
          );
        },
        async release() {
          // Ending the session releases its advisory lock.
          await close();
        },
      };
    },
    async close() {
      const client = standby;
      standby = undefined;
      if (client) await endClient(client);
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
