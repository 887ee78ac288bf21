import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { publishPaced } from '../support/paced-publisher.ts';
import {
  assertCustomersMatchModel,
  assertEveryChangeAnnouncedOnce,
  readCustomerRows,
  waitForAllProcessed,
} from '../support/pipeline-checks.ts';
import { startPipelineFixture } from '../support/pipeline-fixture.ts';
import { expectedCustomers } from '../support/reference-model.ts';
import type { ServiceProcess } from '../support/service-process.ts';
import { uniqueName } from '../support/test-environment.ts';
import { waitFor } from '../support/wait-for.ts';
import { generateWorkload } from '../support/workload.ts';

const TENANTS = {
  'tenant-a': ['collections', 'servicing'],
  'tenant-b': ['collections'],
};
const SHARDS = 6;

/** A replica's own figures from its /metrics: the shards it holds, the rows it published. */
async function relayFigures(
  service: ServiceProcess,
): Promise<{ shards: number; published: number }> {
  const running = service.logs.find((line) => line.msg === 'customer-sync is running');
  if (typeof running?.httpPort !== 'number') throw new Error('the replica has not said its port');
  const text = await (await fetch(`http://127.0.0.1:${running.httpPort}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return {
    shards: value('customer_sync_outbox_shards_held'),
    published: value('customer_sync_outbox_published_total'),
  };
}

/** Waits until the replicas hold exactly `expected` shards each (every shard held once). */
async function waitForShares(replicas: ServiceProcess[], expected: number[]) {
  await waitFor(`outbox shards held per replica to be ${JSON.stringify(expected)}`, async () => {
    const held = await Promise.all(
      replicas.map(async (replica) => (await relayFigures(replica)).shards),
    );
    if (JSON.stringify(held) !== JSON.stringify(expected))
      throw new Error(`held ${JSON.stringify(held)}`);
    return held;
  });
}

describe('sharded outbox relay: replicas share the shards (SPEC §4.6, §4.8, §9)', () => {
  it('spreads the shards over two then three replicas, hands a killed holder’s shards to the others, and keeps every customer’s order', async (t) => {
    const workload = generateWorkload({
      seed: 20_2026,
      tenants: TENANTS,
      customersPerTenant: 20,
      events: 1_500,
      duplicateRatio: 0.05,
    });
    const fixture = await startPipelineFixture({
      partitions: 4,
      tenants: TENANTS,
      env: {
        OUTBOX_SHARDS: String(SHARDS),
        OUTBOX_SHARD_REBALANCE_MS: '300',
        KAFKA_SESSION_TIMEOUT_MS: '6000',
      },
    });
    const groupId = uniqueName('sharded-relay');
    const first = await fixture.newService({}, groupId).start();
    await waitForShares([first], [6]);
    const second = await fixture.newService({}, groupId).start();
    await waitForShares([first, second], [3, 3]);
    const third = await fixture.newService({}, groupId).start();
    await waitForShares([first, second, third], [2, 2, 2]);

    // The stream in two halves; during the first, the second replica is killed with SIGKILL
    // while it relays: its shards must go to the two survivors, its rows with them.
    const half = Math.ceil(workload.stream.length / 2);
    const firstHalf = publishPaced(fixture.publish, workload.stream.slice(0, half), {
      sliceSize: 30,
      pauseMs: 40,
    });
    await waitFor('the second replica to publish some announcements', async () => {
      const { published } = await relayFigures(second);
      if (published === 0) throw new Error('published 0');
      return published;
    });
    const exit = await second.kill('SIGKILL');
    assert.equal(exit?.signal, 'SIGKILL');
    await waitForShares([first, third], [3, 3]);
    await firstHalf.done;
    await publishPaced(fixture.publish, workload.stream.slice(half), {
      sliceSize: 30,
      pauseMs: 40,
    }).done;

    await waitForAllProcessed(fixture.sql, workload.events.length);
    const rows = await readCustomerRows(fixture.sql);
    assertCustomersMatchModel(rows, expectedCustomers(workload.events.map((e) => e.expected)));
    // Per customer: announced versions exactly 1..version, in order (a re-send after the kill
    // repeats an earlier event byte for byte, never out of order).
    const { resent } = await assertEveryChangeAnnouncedOnce(fixture.updated.messages, rows);
    t.diagnostic(`customer.updated re-sent after the kill: ${resent}`);
    const survivors = await Promise.all([first, third].map(relayFigures));
    assert.ok(
      survivors.every((figures) => figures.published > 0),
      `both survivors relayed (${JSON.stringify(survivors)})`,
    );
  });
});
