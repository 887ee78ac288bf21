import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EachBatchPayload } from 'kafkajs';
import { sharingOffsetCommits } from '../../src/messaging/consumer/shared-offset-commits.ts';

type Request = { topic: string; partitions: Array<{ partition: number; offset: string }> }[];

/**
 * The consumer group as the batches' payloads reach it: every payload commits through the same
 * group; a request naming a partition in `failing` fails as a whole with `errorType`. By default
 * that is a partition-level error (the broker names one partition it cannot commit); a
 * group-level one (REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION) fails every partition alike.
 */
function consumerGroup(failing: number[] = [], errorType = 'UNKNOWN_TOPIC_OR_PARTITION') {
  const requests: Request[] = [];
  const payload = {
    commitOffsetsIfNecessary: async ({ topics }: { topics: Request }) => {
      requests.push(topics);
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (topics.some(({ partitions }) => partitions.some((p) => failing.includes(p.partition))))
        throw Object.assign(new Error(`OffsetCommit failed: ${errorType}`), { type: errorType });
    },
  } as unknown as EachBatchPayload;
  return { requests, payload };
}

/** A request as one line, `topic partition@offset …; topic …`, in the order it names them. */
function described(request: Request): string {
  return request
    .map(({ topic, partitions }) =>
      [topic, ...partitions.map(({ partition, offset }) => `${partition}@${offset}`)].join(' '),
    )
    .join('; ');
}

/** Asks for these commits in one turn; returns the requests the broker received. */
async function commitTogether(offsets: Array<[topic: string, partition: number, offset: string]>) {
  const group = consumerGroup();
  const commit = sharingOffsetCommits();
  await Promise.all(
    offsets.map(([topic, partition, offset]) =>
      commit(group.payload, { topic, partition, offset }),
    ),
  );
  return group.requests;
}

describe('partitions sharing offset commits (shared-offset-commits.ts)', () => {
  const together: Array<[name: string, offsets: Array<[string, number, string]>, sent: string[]]> =
    [
      [
        'commits asked for in the same turn go to the broker as one request with every partition',
        [
          ['requests', 0, '11'],
          ['requests', 3, '40'],
          ['other', 1, '7'],
        ],
        ['requests 0@11 3@40; other 1@7'],
      ],
      [
        'never moves a partition back: of two offsets for one partition, the furthest is sent',
        [
          ['requests', 1, '100'],
          ['requests', 1, '20'],
          ['requests', 2, '3'],
        ],
        ['requests 1@100 2@3'],
      ],
    ];
  for (const [name, offsets, sent] of together)
    it(name, async () => {
      assert.deepEqual((await commitTogether(offsets)).map(described), sent);
    });

  it('a commit asked for alone is sent alone; one asked for later is a request of its own', async () => {
    const group = consumerGroup();
    const commit = sharingOffsetCommits();
    await commit(group.payload, { topic: 'requests', partition: 2, offset: '5' });
    await commit(group.payload, { topic: 'requests', partition: 2, offset: '9' });
    assert.deepEqual(group.requests.map(described), ['requests 2@5', 'requests 2@9']);
  });

  it("when the shared request fails for a partition, each is committed alone: only that one's commit fails", async () => {
    const group = consumerGroup([4]);
    const commit = sharingOffsetCommits();
    const [kept, stale] = await Promise.allSettled([
      commit(group.payload, { topic: 'requests', partition: 0, offset: '12' }),
      commit(group.payload, { topic: 'requests', partition: 4, offset: '30' }),
    ]);
    assert.equal(kept.status, 'fulfilled');
    assert.equal(stale.status, 'rejected');
    assert.equal((stale as PromiseRejectedResult).reason.type, 'UNKNOWN_TOPIC_OR_PARTITION');
    assert.deepEqual(group.requests.map(described), [
      'requests 0@12 4@30',
      'requests 0@12',
      'requests 4@30',
    ]);
  });

  it('a commit of a group generation that has gone is not sent: it fails as stale, the others go', async () => {
    const group = consumerGroup();
    const commit = sharingOffsetCommits({ currentGeneration: () => 3 });
    const results = Promise.allSettled([
      commit(group.payload, { topic: 'requests', partition: 0, offset: '12', generation: 3 }),
      commit(group.payload, { topic: 'requests', partition: 4, offset: '30', generation: 2 }),
    ]);
    const [current, stale] = await results;
    assert.equal(current?.status, 'fulfilled');
    assert.equal(stale?.status === 'rejected' && stale.reason.code, 'kafka.commit_stale');
    assert.deepEqual(group.requests.map(described), ['requests 0@12']);
  });

  it('the generation is read when the request is built, not when the commit is asked for', async () => {
    const group = consumerGroup();
    let generation = 1;
    const commit = sharingOffsetCommits({ currentGeneration: () => generation });
    const asked = commit(group.payload, {
      topic: 'requests',
      partition: 0,
      offset: '12',
      generation: 1,
    });
    generation = 2; // the group rebalanced within the turn
    await assert.rejects(asked, { code: 'kafka.commit_stale' });
    assert.deepEqual(group.requests, []);
  });

  it('a commit sent again after a shared request failed is not sent if the group has moved on meanwhile', async () => {
    const group = consumerGroup([4]);
    let generation = 1;
    const commit = sharingOffsetCommits({ currentGeneration: () => generation });
    const asked = [
      commit(group.payload, { topic: 'requests', partition: 0, offset: '12', generation: 1 }),
      commit(group.payload, { topic: 'requests', partition: 4, offset: '30', generation: 1 }),
    ];
    await new Promise((resolve) => setImmediate(resolve));
    generation = 2; // rebalanced while the shared request was on its way
    for (const outcome of await Promise.allSettled(asked))
      assert.equal(outcome.status === 'rejected' && outcome.reason.code, 'kafka.commit_stale');
    assert.deepEqual(group.requests.map(described), ['requests 0@12 4@30']);
  });

  it("a failure of the group's (a rebalance) reaches every commit at once, without sending each again", async () => {
    const group = consumerGroup([0], 'REBALANCE_IN_PROGRESS');
    const commit = sharingOffsetCommits();
    const results = await Promise.allSettled([
      commit(group.payload, { topic: 'requests', partition: 0, offset: '12' }),
      commit(group.payload, { topic: 'requests', partition: 4, offset: '30' }),
    ]);
    assert.deepEqual(
      results.map((result) => result.status === 'rejected' && result.reason.type),
      ['REBALANCE_IN_PROGRESS', 'REBALANCE_IN_PROGRESS'],
    );
    assert.equal(group.requests.length, 1);
  });
});
