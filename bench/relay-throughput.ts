import { setTimeout as delay } from 'node:timers/promises';
import type { Admin } from 'kafkajs';
import postgres from 'postgres';
import { type CpuSeconds, MachineCpu } from './machine-cpu.ts';
import { ServiceChild } from './service-child.ts';
import { waitForTopicCount } from './topic-count.ts';

/** One relay-only run: `replicas` service processes sharing `shards` outbox shards. */
export interface RelayRun {
  replicas: number;
  shards: number;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  machineCpu: CpuSeconds;
}

/** A backlog row as the outbox holds it. */
interface BacklogRow {
  event_id: string;
  tenant_id: string;
  external_id: string;
  payload: unknown;
}

/**
 * Relay capacity alone (SPEC §9: it grows with replicas): `replicas` copies of the service run
 * against an empty input topic with OUTBOX_SHARDS = `replicas`, wait until each holds its share
 * of the shards, and then the whole backlog (the ceiling's outbox, ~1 row per event) appears in
 * their outbox at once, in one committed transaction. The clock runs from that commit until
 * every row is on customer.updated. On a 2-core machine the replicas share the cores with
 * Postgres and the broker: the per-process CPU says what the cores allowed.
 */
export async function measureRelayThroughput(options: {
  admin: Admin;
  backlogDatabaseUrl: string;
  /** a migrated, empty database for this run */
  databaseUrl: string;
  replicas: number;
  environment: (groupId: string) => Record<string, string>;
  updatedTopic: string;
  log: (line: string) => void;
}): Promise<RelayRun> {
  const backlog = await readBacklog(options.backlogDatabaseUrl);
  const children = Array.from(
    { length: options.replicas },
    () =>
      new ServiceChild({
        ...options.environment(`relay-${options.replicas}`),
        OUTBOX_SHARDS: String(options.replicas),
        OUTBOX_SHARD_REBALANCE_MS: '500',
      }),
  );
  const sql = postgres(options.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    for (const child of children) await child.start();
    await waitForShares(children);
    // Sampled from the commit on: the insert's own CPU (this process and Postgres building the
    // backlog) is not the relays'.
    const startedAt = await insertAtOnce(sql, backlog);
    const machine = new MachineCpu(() => children.map((child) => child.pid)).start();
    let machineCpu: CpuSeconds;
    let doneAt: number;
    try {
      doneAt = await waitForTopicCount(
        options.admin,
        options.updatedTopic,
        backlog.length,
        600_000,
      );
    } finally {
      // Stopped on failure too: its sampling timer would keep the process alive.
      machineCpu = machine.stop();
    }
    const seconds = (doneAt - startedAt) / 1000;
    return {
      replicas: options.replicas,
      shards: options.replicas,
      events: backlog.length,
      seconds,
      eventsPerSecond: backlog.length / seconds,
      machineCpu,
    };
  } finally {
    await sql.end({ timeout: 5 });
    for (const child of children) await child.stop();
  }
}

async function readBacklog(url: string): Promise<BacklogRow[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await sql<BacklogRow[]>`
      select event_id::text, tenant_id, external_id, payload
      from outbox order by id`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Inserts the backlog in one transaction; returns when it committed (the clock's start). */
async function insertAtOnce(sql: postgres.Sql, backlog: readonly BacklogRow[]): Promise<number> {
  await sql.begin(async (tx) => {
    for (let start = 0; start < backlog.length; start += 5_000) {
      const rows = backlog.slice(start, start + 5_000);
      await tx`
        insert into outbox (event_id, tenant_id, external_id, payload)
        select event_id, tenant_id, external_id, payload
        from json_to_recordset(${JSON.stringify(rows)}::text::json)
          as r(event_id uuid, tenant_id text, external_id text, payload json)`;
    }
    await tx`select pg_notify('customer_sync_outbox', '')`;
  });
  return performance.now();
}

/** Waits until every replica reports shards/replicas shards held (here: one each). */
async function waitForShares(children: readonly ServiceChild[]) {
  const deadline = performance.now() + 60_000;
  let held: number[] = [];
  for (;;) {
    held = await Promise.all(children.map(shardsHeld));
    if (held.every((count) => count === 1)) return;
    if (performance.now() > deadline)
      throw new Error(`the relay replicas did not share the shards: held ${JSON.stringify(held)}`);
    await delay(100);
  }
}

async function shardsHeld(child: ServiceChild): Promise<number> {
  if (child.httpPort === undefined) return -1;
  const text = await (await fetch(`http://127.0.0.1:${child.httpPort}/metrics`)).text();
  return Number(/^customer_sync_outbox_shards_held (\S+)$/m.exec(text)?.[1] ?? -1);
}
