import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EachBatchPayload } from 'kafkajs';
import { committingInBackground } from '../../src/messaging/consumer/background-offset-commits.ts';
import type { PartitionOffset } from '../../src/messaging/consumer/shared-offset-commits.ts';

const payload = {} as EachBatchPayload;

/** A broker whose answers the test releases one by one, in any order it likes. */
function heldBroker() {
  const sent: Array<{ offset: PartitionOffset; answer: (error?: Error) => void }> = [];
  const commitOffset = (_payload: EachBatchPayload, offset: PartitionOffset) =>
    new Promise<void>((resolve, reject) => {
      sent.push({ offset, answer: (error) => (error ? reject(error) : resolve()) });
    });
  /** the commits the broker has received so far, as `partition@offset` */
  const received = () => sent.map(({ offset }) => `${offset.partition}@${offset.offset}`);
  return { sent, commitOffset, received };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const at = (partition: number, offset: string) => ({ topic: 'requests', partition, offset });

describe('offset commits in the background (background-offset-commits.ts)', () => {
  it('returns before the broker answers, so the caller can go on to its next chunk', async () => {
    const broker = heldBroker();
    const commits = committingInBackground(broker.commitOffset);
    let answered = false;
    const committed = commits.commit(payload, at(0, '10')).then(() => {
      answered = true;
    });
    await turn();
    assert.equal(broker.sent.length, 1);
    assert.equal(answered, false);
    broker.sent[0]?.answer();
    await committed;
    assert.equal(answered, true);
  });

  for (const firstFails of [false, true])
    it(`sends a partition's next commit only once the one before it has ${firstFails ? 'failed (reaching its caller)' : 'succeeded'}, so its offset never moves back`, async () => {
      const broker = heldBroker();
      const commits = committingInBackground(broker.commitOffset);
      const first = commits.commit(payload, at(0, '10'));
      const second = commits.commit(payload, at(0, '20'));
      await turn();
      assert.deepEqual(broker.received(), ['0@10']);
      broker.sent[0]?.answer(firstFails ? new Error('REBALANCE_IN_PROGRESS') : undefined);
      if (firstFails) await assert.rejects(first, /REBALANCE_IN_PROGRESS/);
      else await first;
      await turn();
      assert.deepEqual(broker.received(), ['0@10', '0@20']);
      broker.sent[1]?.answer();
      await second;
    });

  const waitingCases: Array<[name: string, asked: string[], sent: string, answer?: Error]> = [
    [
      'of the commits asked for while one is on its way, only the latest is sent, and it answers them all',
      ['20', '30'],
      '0@30',
      new Error('NOT_COORDINATOR'),
    ],
    [
      'a waiting commit keeps the furthest offset asked for in its generation',
      ['50', '30'],
      '0@50',
    ],
  ];
  for (const [name, asked, sent, answer] of waitingCases)
    it(name, async () => {
      const broker = heldBroker();
      const commits = committingInBackground(broker.commitOffset);
      const first = commits.commit(payload, at(0, '10'));
      const waiting = asked.map((offset) => commits.commit(payload, at(0, offset)));
      await turn();
      broker.sent[0]?.answer();
      await first;
      await turn();
      assert.deepEqual(broker.received(), ['0@10', sent]);
      broker.sent[1]?.answer(answer);
      for (const outcome of await Promise.allSettled(waiting))
        if (answer)
          assert.equal(outcome.status === 'rejected' && outcome.reason.message, answer.message);
        else assert.equal(outcome.status, 'fulfilled');
    });

  it('a commit of a later group generation does not stand for one waiting from an earlier one: that one is stale', async () => {
    const broker = heldBroker();
    const commits = committingInBackground(broker.commitOffset);
    void commits.commit(payload, { ...at(0, '10'), generation: 1 });
    const waiting = commits.commit(payload, { ...at(0, '90'), generation: 1 });
    const reread = commits.commit(payload, { ...at(0, '40'), generation: 2 });
    await assert.rejects(waiting, { code: 'kafka.commit_stale' });
    broker.sent[0]?.answer();
    await turn();
    await turn();
    assert.deepEqual(broker.received(), ['0@10', '0@40']);
    broker.sent[1]?.answer();
    await reread;
  });

  it('different partitions do not wait for each other', async () => {
    const broker = heldBroker();
    const commits = committingInBackground(broker.commitOffset);
    void commits.commit(payload, at(0, '10'));
    void commits.commit(payload, at(1, '5'));
    await turn();
    assert.deepEqual(broker.received(), ['0@10', '1@5']);
    for (const { answer } of broker.sent) answer();
  });

  it('settled() waits for every commit asked for, including ones queued behind another', async () => {
    const broker = heldBroker();
    const commits = committingInBackground(broker.commitOffset);
    void commits.commit(payload, at(0, '10'));
    commits.commit(payload, at(0, '20')).catch(() => {});
    let settled = false;
    const waiting = commits.settled().then(() => {
      settled = true;
    });
    await turn();
    broker.sent[0]?.answer();
    await turn();
    await turn();
    assert.equal(settled, false, 'the second commit is still in flight');
    broker.sent[1]?.answer(new Error('NOT_COORDINATOR'));
    await waiting;
    assert.equal(settled, true);
  });

  it('settled() is immediate when nothing is in flight', async () => {
    const commits = committingInBackground(heldBroker().commitOffset);
    await commits.settled();
  });
});
