import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  INITIAL_SHARD_ROUND_STATE,
  planShardRound,
  type ShardRoundState,
  shardQuota,
} from '../../src/persistence/relay-shard-plan.ts';

/**
 * A little cluster of relays sharing advisory locks, run round by round: each member plans
 * from the same facts Postgres would show it, and its acquisitions succeed only on free shards
 * (pg_try_advisory_lock), in the order the members take their turns.
 */
class Cluster {
  readonly holders = new Map<number, number>();
  readonly states = new Map<number, ShardRoundState>();
  readonly stalled = new Set<number>();
  readonly shardCount: number;
  constructor(shardCount: number) {
    this.shardCount = shardCount;
  }

  join(pid: number) {
    this.states.set(pid, INITIAL_SHARD_ROUND_STATE);
  }

  /** kill -9: its session ends, Postgres drops its locks */
  kill(pid: number) {
    this.states.delete(pid);
    for (const [shard, holder] of this.holders) if (holder === pid) this.holders.delete(shard);
  }

  round(order: number[] = [...this.states.keys()]) {
    for (const me of order) {
      const state = this.states.get(me);
      if (state === undefined || this.stalled.has(me)) continue;
      const plan = planShardRound({
        shardCount: this.shardCount,
        members: [...this.states.keys()],
        holders: this.holders,
        me,
        state,
      });
      for (const shard of plan.release) this.holders.delete(shard);
      for (const shard of plan.acquire) if (!this.holders.has(shard)) this.holders.set(shard, me);
      this.states.set(me, plan.next);
    }
  }

  held(pid: number): number[] {
    return [...this.holders]
      .filter(([, holder]) => holder === pid)
      .map(([shard]) => shard)
      .sort((a, b) => a - b);
  }

  counts(): number[] {
    return [...this.states.keys()].map((pid) => this.held(pid).length);
  }

  /** no shard is held by two members: the locks guarantee it, the model checks it */
  everyShardHeld(): boolean {
    return this.holders.size === this.shardCount;
  }
}

describe('relay shard plan', () => {
  it('gives each member floor or ceil of shards/members, adding up to every shard', () => {
    assert.deepEqual(
      [10, 20, 30].map((pid) => shardQuota(12, [30, 10, 20], pid)),
      [4, 4, 4],
    );
    assert.deepEqual(
      [1, 2, 3].map((pid) => shardQuota(8, [3, 1, 2], pid)),
      [3, 3, 2],
    );
    assert.equal(shardQuota(4, [1, 2], 9), 0, 'not a member');
  });

  it('moves only a dead member’s shards: survivors keep what they held', () => {
    const cluster = new Cluster(12);
    for (const pid of [100, 200, 300]) cluster.join(pid);
    cluster.round();
    const before = { 100: cluster.held(100), 300: cluster.held(300) };
    cluster.kill(200);
    cluster.round();
    for (const pid of [100, 300] as const)
      for (const shard of before[pid]) assert.ok(cluster.held(pid).includes(shard));
  });

  it('gives a lone replica every shard in its first round', () => {
    const cluster = new Cluster(12);
    cluster.join(100);
    cluster.round();
    assert.equal(cluster.held(100).length, 12);
  });

  it('shares the shards when a second and a third replica join, without a shard held twice', () => {
    const cluster = new Cluster(12);
    cluster.join(100);
    cluster.round();
    cluster.join(200);
    cluster.round();
    cluster.round();
    assert.deepEqual(cluster.counts(), [6, 6]);
    assert.ok(cluster.everyShardHeld());

    cluster.join(300);
    cluster.round([300, 100, 200]);
    cluster.round([300, 100, 200]);
    assert.deepEqual(cluster.counts(), [4, 4, 4]);
    assert.ok(cluster.everyShardHeld());
  });

  it('lets the survivors take a killed replica’s shards in their next round', () => {
    const cluster = new Cluster(12);
    for (const pid of [100, 200, 300]) cluster.join(pid);
    cluster.round();
    cluster.round();
    assert.deepEqual(cluster.counts(), [4, 4, 4]);
    cluster.kill(200);
    cluster.round();
    assert.deepEqual(cluster.counts(), [6, 6]);
    assert.ok(cluster.everyShardHeld());
  });

  it('rescues the shards of a member that does not take them, and keeps them', () => {
    const cluster = new Cluster(6);
    cluster.join(100);
    cluster.round();
    cluster.join(200);
    cluster.stalled.add(200);
    cluster.round(); // 100 releases 200's natural shards
    assert.equal(cluster.held(100).length, 3);
    cluster.round(); // free once
    cluster.round(); // free twice: rescued
    assert.equal(cluster.held(100).length, 6);
    for (let round = 0; round < 5; round++) cluster.round();
    assert.equal(cluster.held(100).length, 6, 'no release-and-rescue flapping');
  });

  it('offers rescued shards back after the rescue rounds, and the owner that woke takes them', () => {
    const cluster = new Cluster(4);
    cluster.join(1);
    cluster.round();
    cluster.join(2);
    cluster.stalled.add(2);
    for (let round = 0; round < 3; round++) cluster.round();
    assert.equal(cluster.held(1).length, 4);
    cluster.stalled.delete(2);
    for (let round = 0; round < 35; round++) cluster.round();
    assert.deepEqual(cluster.counts(), [2, 2]);
  });

  it('keeps every shard held through a rolling restart of three replicas', () => {
    const cluster = new Cluster(8);
    for (const pid of [1, 2, 3]) cluster.join(pid);
    cluster.round();
    for (const [old, replacement] of [
      [1, 4],
      [2, 5],
      [3, 6],
    ] as const) {
      cluster.kill(old);
      cluster.join(replacement);
      cluster.round();
      cluster.round();
      assert.ok(cluster.everyShardHeld(), `after replacing ${old} by ${replacement}`);
    }
    assert.deepEqual(
      cluster.counts().sort(),
      [2, 3, 3],
      'eight shards over three members: ceil for the first two ranks',
    );
  });
});
