import postgres, { type Sql } from 'postgres';
import type { OutboxStore, RelayLease } from '../application/outbox.ts';
import { ATTEMPT_TIMED_OUT, withDeadline } from '../application/retry-policy.ts';
import type { DatabaseTls } from '../config/security-variables.ts';
import { CustomerSyncError, describeFailure } from '../errors.ts';
import {
  type DatabaseTimeouts,
  reconnectDelaySeconds,
  sessionTimeoutParameters,
} from './database.ts';
import { postgresSslOption } from './database-tls.ts';
import { insertParkedRecords } from './parked-record-store.ts';
import { INITIAL_SHARD_ROUND_STATE, planShardRound } from './relay-shard-plan.ts';

/**
 * The single relay lease of versions before the sharded relay (an exclusive advisory lock).
 * Relays now hold it shared: an old leader and new relays exclude each other both ways, so a
 * rolling upgrade never has two relays publishing one customer's rows.
 */
const LEGACY_RELAY_LOCK_ID = '7301964220119';
/**
 * Two-key advisory locks: (RELAY_MEMBER_LOCKS, shard count) held shared by every relaying
 * session, (RELAY_MEMBER_LOCKS, 0) the transaction lock that serialises joining, and
 * (RELAY_SHARD_LOCKS, shard) held by the one session relaying that shard. Arbitrary constants.
 */
const RELAY_MEMBER_LOCKS = 730196423;
const RELAY_SHARD_LOCKS = 730196424;
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

/**
 * Becomes a relay member for `shardCount` shards, unless a relay with another count, or the
 * single-lease relay of an older version, is relaying: two shard counts would put one
 * customer's rows in two shards relayed at once. Joining is serialised by a transaction lock,
 * so two replicas with different counts cannot both see the other absent.
 */
async function joinRelays(
  client: Sql,
  shardCount: number,
): Promise<{ pid: number; refusal?: string }> {
  return client.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${RELAY_MEMBER_LOCKS}, 0)`;
    const [row] = await tx<{ pid: number; other_count: number | null }[]>`
      select pg_backend_pid() as pid,
             (select min(objid::int8) from pg_locks
              where locktype = 'advisory' and granted and objsubid = 2
                and database = (select oid from pg_database where datname = current_database())
                and classid::int8 = ${RELAY_MEMBER_LOCKS}
                and objid::int8 not in (0, ${shardCount})) as other_count`;
    const pid = row?.pid ?? -1;
    if (row?.other_count != null)
      return {
        pid,
        refusal: `a replica relays the outbox with OUTBOX_SHARDS=${row.other_count}, this one has ${shardCount}: it joins once none is left`,
      };
    const [legacy] = await tx<{ ok: boolean }[]>`
      select pg_try_advisory_lock_shared(${LEGACY_RELAY_LOCK_ID}::bigint) as ok`;
    if (!legacy?.ok)
      return {
        pid,
        refusal:
          'a replica of a version before the sharded relay holds the relay lease: this one joins once it is gone',
      };
    await tx`select pg_advisory_lock_shared(${RELAY_MEMBER_LOCKS}, ${shardCount})`;
    return { pid };
  });
}

export interface OutboxStoreOptions {
  /**
   * The database the relay lease connects to, on a connection of its own (see below). Only
   * the service's relay needs it; without it tryAcquireRelayLease fails.
   */
  leaseDatabaseUrl?: string;
  /** DATABASE_SSL_MODE / DATABASE_SSL_CA, as for every other connection */
  leaseDatabaseTls?: DatabaseTls;
  /** OUTBOX_SHARDS: the same on every replica; default 1 */
  shards?: number;
  /** how often the lease looks at the other relays and rebalances; default 2 s */
  rebalanceMs?: number;
  /** the lease connection's session limits (DATABASE_*_TIMEOUT_MS) */
  timeouts?: Partial<DatabaseTimeouts>;
  /** backlog() counts rows exactly up to this many; default BACKLOG_COUNT_CAP */
  backlogCountCap?: number;
}

/**
 * Up to this many outbox rows backlog() counts exactly (a scan of at most this many rows,
 * ~10 ms); beyond it, the span of the ids.
 */
export const BACKLOG_COUNT_CAP = 100_000;

/** `held` as the one text parameter the queries take (no array types on this connection). */
const shardList = (shards: Iterable<number>) => [...shards].join(',');

/**
 * The relay's shards (README "Sharded relay"): a row is in shard `key_hash % shards`; every
 * relaying replica holds a shared membership lock, and each shard is a session advisory lock
 * held by one of them. Every `rebalanceMs` a relay reads everyone's locks from pg_locks and
 * plans its shards (relay-shard-plan.ts): members share them out, a dead member's session, and
 * with it its locks, ends with its connection, and the others take its shards in their next
 * round.
 *
 * The locks live on a connection of its own (a postgres.js client with one connection), not
 * `sql.reserve()` from the pool: in postgres.js 3.4.9 a reserved
 * connection that died makes the next query on it hang for ever or throw an uncaught
 * TypeError, and a waiting reserve() can be stranded for ever (porsager/postgres#1195), so a
 * single database outage stopped the relay for good. postgres.js reconnects silently, so
 * every read first checks that the session is still the one that took the lock; any failure
 * ends the client, and the relay takes a new lease on a new connection after its backoff.
 * A replica that did not get the lock keeps its connection for the next try.
 */
export function createOutboxStore(sql: Sql, options: OutboxStoreOptions = {}): OutboxStore {
  let standby: Sql | undefined;
  const shardCount = options.shards ?? 1;
  const rebalanceMs = options.rebalanceMs ?? 2_000;

  function shardedLease(client: Sql, sessionPid: number): RelayLease {
    let held = new Set<number>();
    let state = INITIAL_SHARD_ROUND_STATE;
    let nextRoundAt = 0;

    async function rebalance() {
      const [row] = await withLeaseDeadline(
        client,
        client<{ pid: number; locks: Array<{ pid: number; kind: number; key: number }> | null }[]>`
          select pg_backend_pid() as pid,
                 (select json_agg(json_build_object(
                           'pid', pid, 'kind', classid::int8, 'key', objid::int8))
                  from pg_locks
                  where locktype = 'advisory' and granted and objsubid = 2
                    and database = (select oid from pg_database where datname = current_database())
                    and classid::int8 in (${RELAY_MEMBER_LOCKS}, ${RELAY_SHARD_LOCKS})) as locks`,
      );
      const locks = row?.locks ?? [];
      const isMember = (lock: { kind: number; key: number }) =>
        lock.kind === RELAY_MEMBER_LOCKS && lock.key === shardCount;
      // postgres.js reconnects silently: a new session holds none of our locks.
      if (
        row?.pid !== sessionPid ||
        !locks.some((lock) => lock.pid === sessionPid && isMember(lock))
      )
        throw leaseLost('the relay connection was replaced; its shards went with it');
      const holders = new Map<number, number>();
      for (const lock of locks)
        if (lock.kind === RELAY_SHARD_LOCKS && lock.key < shardCount)
          holders.set(lock.key, lock.pid);
      const plan = planShardRound({
        shardCount,
        members: locks.filter(isMember).map((lock) => lock.pid),
        holders,
        me: sessionPid,
        state,
      });
      if (plan.release.length > 0)
        await withLeaseDeadline(
          client,
          client`
            select pg_advisory_unlock(${RELAY_SHARD_LOCKS}, shard)
            from unnest(string_to_array(${shardList(plan.release)}, ',')::int[]) as shard`,
        );
      const next = new Set(
        [...holders].filter(([, pid]) => pid === sessionPid).map(([shard]) => shard),
      );
      for (const shard of plan.release) next.delete(shard);
      if (plan.acquire.length > 0) {
        const taken = await withLeaseDeadline(
          client,
          client<{ shard: number; taken: boolean }[]>`
            select shard, pg_try_advisory_lock(${RELAY_SHARD_LOCKS}, shard) as taken
            from unnest(string_to_array(${shardList(plan.acquire)}, ',')::int[]) as shard`,
        );
        for (const { shard, taken: ok } of taken) if (ok) next.add(shard);
      }
      held = next;
      state = plan.next;
    }

    async function onLeaseSession<T>(query: () => Promise<T>): Promise<T> {
      // Sent together with the query (one round trip): the rows are used only if the session
      // is still the one holding the shards.
      const [[row], result] = await Promise.all([
        withLeaseDeadline(client, client<{ pid: number }[]>`select pg_backend_pid() as pid`),
        withLeaseDeadline(client, query()),
      ]);
      if (row?.pid !== sessionPid)
        throw leaseLost('the relay connection was replaced; its shards went with it');
      return result;
    }

    return {
      async readBatch(limit, maxBytes) {
        if (Date.now() >= nextRoundAt) {
          await rebalance();
          nextRoundAt = Date.now() + rebalanceMs;
        }
        if (held.size === 0) return [];
        // `order by outbox.id`, not `id`: a bare name in ORDER BY means the output column,
        // id::text, and text order ('10' < '9') would break per-customer order (SPEC §4.6).
        const everyShard = held.size === shardCount;
        const shards = shardList(held);
        const rows = await onLeaseSession(
          () => client<
            {
              id: string;
              event_id: string;
              tenant_id: string;
              external_id: string;
              payload_json: string;
              trace_parent: string | null;
              trace_state: string | null;
            }[]
          >`
            select id::text, event_id::text, tenant_id, external_id, payload_json,
                   trace_parent, trace_state
            from (
              select head.*,
                     sum(octet_length(payload_json)) over (order by head.id) as running_bytes
              from (
                select outbox.id, event_id, tenant_id, external_id,
                       payload::text as payload_json, trace_parent, trace_state
                from outbox
                where ${everyShard}
                   or key_hash % ${shardCount} = any(string_to_array(${shards}, ',')::int[])
                order by outbox.id limit ${limit}
              ) as head
            ) as batch
            where running_bytes - octet_length(payload_json) < ${maxBytes}
            order by batch.id`,
        );
        return rows.map((row) => ({
          id: row.id,
          eventId: row.event_id,
          tenantId: row.tenant_id,
          externalId: row.external_id,
          payloadJson: row.payload_json,
          ...(row.trace_parent === null
            ? {}
            : {
                traceContext: {
                  traceparent: row.trace_parent,
                  ...(row.trace_state === null ? {} : { tracestate: row.trace_state }),
                },
              }),
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
      async park(entries) {
        if (entries.length === 0) return;
        await onLeaseSession(() =>
          client.begin(async (transaction) => {
            await insertParkedRecords(
              transaction,
              entries.map((entry) => entry.record),
            );
            await transaction`
              delete from outbox
              where id = any(string_to_array(${entries.map((entry) => entry.id).join(',')}, ',')::bigint[])`;
          }),
        );
      },
      shards: () => [...held].sort((a, b) => a - b),
      async release() {
        // Ending the session releases its advisory locks: membership and shards.
        await endClient(client);
      },
    };
  }

  function connectLeaseClient(url: string): Sql {
    return postgres(url, {
      max: 1,
      onnotice: () => {},
      ssl: postgresSslOption(options.leaseDatabaseTls, url),
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
      let joined: { pid: number; refusal?: string };
      try {
        joined = await withLeaseDeadline(client, joinRelays(client, shardCount));
      } catch (error) {
        await endClient(client);
        throw error;
      }
      if (joined.refusal !== undefined) {
        standby = client; // it holds nothing: kept for the next try
        throw new CustomerSyncError('outbox.shard_count_mismatch', joined.refusal, {
          canRetry: true,
        });
      }
      return shardedLease(client, joined.pid);
    },
    async close() {
      const client = standby;
      standby = undefined;
      if (client) await endClient(client);
    },
    async backlog() {
      // Every replica samples this every 5 s, and republish reads it between batches: bounded
      // work however large the backlog (an outage leaves millions of rows, and a full count
      // would scan them all each time). Exact up to the cap; beyond, the span of the ids, an
      // upper bound (relays of other shards delete out of id order, leaving holes). The oldest
      // row is the lowest id's, found by the primary key.
      const cap = options.backlogCountCap ?? BACKLOG_COUNT_CAP;
      const [row] = await sql<
        { counted: number; id_span: number | null; oldest_age_seconds: number | null }[]
      >`
        select (select count(*) from (select from outbox limit ${cap}) as capped)::int as counted,
               (select max(id) - min(id) + 1 from outbox)::float8 as id_span,
               (select extract(epoch from now() - created_at) from outbox order by id limit 1)::float8
                 as oldest_age_seconds`;
      const counted = row?.counted ?? 0;
      return {
        count: counted < cap ? counted : Math.max(counted, row?.id_span ?? 0),
        oldestAgeSeconds: row?.oldest_age_seconds ?? 0,
      };
    },
    async listen(onWrite) {
      const subscription = await sql.listen(OUTBOX_CHANNEL, () => onWrite());
      return () => subscription.unlisten();
    },
  };
}
