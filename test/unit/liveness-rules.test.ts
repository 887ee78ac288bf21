import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createConsumerProgress } from '../../src/observability/consumer-progress.ts';
import {
  assessLiveness,
  type LivenessThresholds,
  type LivenessVerdict,
} from '../../src/observability/liveness-rules.ts';

const thresholds: LivenessThresholds = { progressTimeoutMs: 60_000, eventLoopBlockedMs: 5_000 };
const TOPIC = 'customer.update.requested';

/** A consumer on a clock of its own, with dependencies that answer from `answeringSince`. */
function aConsumer() {
  let time = 1_000_000;
  const progress = createConsumerProgress(() => time);
  let answeringSince: number | undefined = time;
  let eventLoopMaxDelayMs = 0;
  const consumer = {
    progress,
    advance(ms: number) {
      time += ms;
    },
    /** the broker or the database stops answering (undefined) or answers again from now */
    dependencies(answering: boolean) {
      answeringSince = answering ? (answeringSince ?? time) : undefined;
    },
    blockEventLoop(ms: number) {
      eventLoopMaxDelayMs = ms;
    },
    verdict(): LivenessVerdict {
      return assessLiveness(
        {
          progress: progress.snapshot(),
          dependenciesAnsweringSince: answeringSince,
          eventLoopMaxDelayMs,
        },
        thresholds,
        time,
      );
    },
    reasons: () => consumer.verdict().problems.map((problem) => problem.reason),
  };
  return consumer;
}

/** A consumer that joined, polls every second and has two partitions, both caught up. */
function aWorkingConsumer() {
  const consumer = aConsumer();
  consumer.progress.joined({ [TOPIC]: [0, 1] });
  consumer.progress.lagSampled([
    { topic: TOPIC, partition: 0, lag: 0 },
    { topic: TOPIC, partition: 1, lag: 0 },
  ]);
  return consumer;
}

function keepPolling(consumer: ReturnType<typeof aConsumer>, ms: number) {
  for (let elapsed = 0; elapsed < ms; elapsed += 1_000) {
    consumer.advance(1_000);
    consumer.progress.polled();
  }
}

describe('liveness: when /healthz says a replica is stuck (SPEC §8)', () => {
  it('is live while the consumer polls and commits what arrives', () => {
    const consumer = aWorkingConsumer();
    for (let round = 0; round < 10; round++) {
      keepPolling(consumer, 30_000);
      consumer.progress.lagSampled([{ topic: TOPIC, partition: 0, lag: 5 }]);
      consumer.progress.chunkStarted(TOPIC, 0, Date.now(), BigInt(round + 1) * 10n);
      consumer.progress.committed(TOPIC, 0, BigInt(round + 1) * 10n);
      consumer.progress.lagSampled([{ topic: TOPIC, partition: 0, lag: 0 }]);
    }
    assert.deepEqual(consumer.verdict(), { live: true, problems: [] });
  });

  it('is live on an idle partition that has not seen a commit for hours', () => {
    const consumer = aWorkingConsumer();
    keepPolling(consumer, 3 * 3_600_000);
    assert.deepEqual(consumer.reasons(), []);
  });

  it('reports a partition with messages waiting and no commit for the timeout, while the dependencies answer', () => {
    const consumer = aWorkingConsumer();
    keepPolling(consumer, 10_000);
    consumer.progress.lagSampled([{ topic: TOPIC, partition: 1, lag: 42 }]);
    keepPolling(consumer, 59_000);
    assert.deepEqual(consumer.reasons(), [], 'not yet: within the timeout');
    keepPolling(consumer, 2_000);
    const [problem] = consumer.verdict().problems;
    assert.deepEqual(
      { ...problem, forMs: undefined },
      { reason: 'not_committing', topic: TOPIC, partition: 1, lag: 42, forMs: undefined },
    );
  });

  it('starts the stall clock when messages start waiting, not at the last commit of an idle partition', () => {
    const consumer = aWorkingConsumer();
    keepPolling(consumer, 600_000);
    consumer.progress.lagSampled([{ topic: TOPIC, partition: 0, lag: 3 }]);
    keepPolling(consumer, 30_000);
    assert.deepEqual(consumer.reasons(), []);
  });

  it('is live while a partition is paused retrying a database outage, however long it lasts', () => {
    const consumer = aWorkingConsumer();
    consumer.progress.lagSampled([{ topic: TOPIC, partition: 0, lag: 100 }]);
    consumer.dependencies(false);
    // The fetcher waits for the paused partition's batch: no fetch completes either.
    consumer.advance(30 * 60_000);
    assert.deepEqual(consumer.verdict(), { live: true, problems: [] });
  });

  it('is live while a partition is held back on a record batch it cannot read, retried every 30 s', () => {
    const consumer = aWorkingConsumer();
    consumer.progress.lagSampled([{ topic: TOPIC, partition: 0, lag: 100 }]);
    for (let attempt = 0; attempt < 20; attempt++) {
      keepPolling(consumer, 30_000);
      consumer.progress.heldBack(TOPIC, 0);
    }
    assert.deepEqual(consumer.reasons(), [], 'a restart would read the same batch again');
    keepPolling(consumer, 61_000);
    assert.deepEqual(consumer.reasons(), ['not_committing'], 'once it is no longer retried');
  });

  it('gives the full timeout again once the dependencies answer after an outage', () => {
    const consumer = aWorkingConsumer();
    consumer.progress.lagSampled([{ topic: TOPIC, partition: 0, lag: 100 }]);
    consumer.dependencies(false);
    consumer.advance(30 * 60_000);
    consumer.dependencies(true);
    consumer.advance(59_000);
    assert.deepEqual(consumer.reasons(), [], 'the retry gets its chance to commit');
    consumer.advance(2_000);
    assert.deepEqual(consumer.reasons(), ['not_polling', 'not_committing']);
  });

  it('reports a consumer that stopped fetching though it is in the group', () => {
    const consumer = aWorkingConsumer();
    consumer.advance(61_000);
    assert.deepEqual(consumer.reasons(), ['not_polling']);
  });

  it('reports a consumer that left its group and did not rejoin, while the broker answers', () => {
    const consumer = aWorkingConsumer();
    keepPolling(consumer, 5_000);
    consumer.progress.left();
    consumer.advance(59_000);
    assert.deepEqual(consumer.reasons(), []);
    consumer.advance(2_000);
    assert.deepEqual(consumer.reasons(), ['not_in_consumer_group']);
    consumer.progress.joined({ [TOPIC]: [0] });
    assert.deepEqual(consumer.reasons(), [], 'rejoining is progress');
  });

  it('is live while the broker is down and the consumer cannot rejoin', () => {
    const consumer = aWorkingConsumer();
    consumer.progress.left();
    consumer.dependencies(false);
    consumer.advance(10 * 60_000);
    assert.deepEqual(consumer.reasons(), []);
  });

  it('forgets partitions revoked by a rebalance and starts the clock of new ones at the assignment', () => {
    const consumer = aWorkingConsumer();
    consumer.progress.lagSampled([{ topic: TOPIC, partition: 1, lag: 9 }]);
    keepPolling(consumer, 50_000);
    consumer.progress.joined({ [TOPIC]: [0, 2] });
    consumer.progress.lagSampled([{ topic: TOPIC, partition: 2, lag: 7 }]);
    keepPolling(consumer, 50_000);
    assert.deepEqual(consumer.reasons(), []);
    assert.deepEqual(
      consumer.progress.snapshot().partitions.map(({ partition }) => partition),
      [0, 2],
    );
  });

  it('reports an event loop blocked beyond the threshold, even while a dependency is down', () => {
    const consumer = aWorkingConsumer();
    consumer.dependencies(false);
    consumer.blockEventLoop(4_000);
    assert.deepEqual(consumer.reasons(), []);
    consumer.blockEventLoop(6_000);
    assert.deepEqual(consumer.verdict().problems, [
      { reason: 'event_loop_blocked', blockedMs: 6_000 },
    ]);
  });

  it('does not judge the consumer while the service is stopping', () => {
    const consumer = aWorkingConsumer();
    consumer.progress.lagSampled([{ topic: TOPIC, partition: 0, lag: 100 }]);
    consumer.progress.stopping();
    consumer.progress.left();
    consumer.advance(10 * 60_000);
    assert.deepEqual(consumer.reasons(), []);
  });
});

describe('consumer progress: what the lag-in-seconds metric reads', () => {
  const pendingOf = (consumer: ReturnType<typeof aWorkingConsumer>) =>
    consumer.progress.snapshot().partitions.find(({ partition }) => partition === 0)
      ?.oldestPendingTimestamp;

  it('keeps the oldest message of the chunk being applied until its commit', () => {
    const consumer = aWorkingConsumer();
    consumer.progress.chunkStarted(TOPIC, 0, 1_000, 50n);
    consumer.progress.chunkStarted(TOPIC, 0, 2_000, 50n);
    assert.equal(pendingOf(consumer), 1_000, 'a chunk read again keeps its first start');
    consumer.progress.committed(TOPIC, 0, 50n);
    assert.equal(pendingOf(consumer), undefined);
  });

  /** two chunks started, ending at 50 and 90, their first messages of t=1000 and t=3000 */
  const twoChunksPending = () => {
    const consumer = aWorkingConsumer();
    consumer.progress.chunkStarted(TOPIC, 0, 1_000, 50n);
    consumer.progress.chunkStarted(TOPIC, 0, 3_000, 90n);
    return consumer;
  };

  it("a commit that lands after the next chunk started leaves that chunk's oldest message pending", () => {
    const consumer = twoChunksPending(); // chunk 1's commit still on its way
    consumer.progress.committed(TOPIC, 0, 50n);
    assert.equal(pendingOf(consumer), 3_000);
    consumer.progress.committed(TOPIC, 0, 90n);
    assert.equal(pendingOf(consumer), undefined);
  });

  it("while commits keep failing (past the chunks it keeps apart), the age stays the oldest chunk's, and a commit clears what it covers", () => {
    const consumer = aWorkingConsumer();
    for (let chunk = 1; chunk <= 1_000; chunk++)
      consumer.progress.chunkStarted(TOPIC, 0, 1_000 + chunk, BigInt(chunk) * 10n);
    assert.equal(pendingOf(consumer), 1_001);
    consumer.progress.committed(TOPIC, 0, 9_990n);
    assert.equal(pendingOf(consumer), 2_000, 'the last chunk is still pending');
    consumer.progress.committed(TOPIC, 0, 10_000n);
    assert.equal(pendingOf(consumer), undefined);
  });

  it('a later commit also clears a chunk whose own commit failed', () => {
    const consumer = twoChunksPending();
    consumer.progress.committed(TOPIC, 0, 90n); // the commit up to 50 failed: 90 covers it
    assert.equal(pendingOf(consumer), undefined);
  });
});
