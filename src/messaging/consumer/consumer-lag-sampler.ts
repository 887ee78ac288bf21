import type { Admin } from 'kafkajs';
import type { ConsumerProgress, PartitionLag } from '../../observability/consumer-progress.ts';
import type { Metrics } from '../../observability/metrics.ts';

export interface ConsumerLagSampler {
  /**
   * Reads the group's committed offsets and the partitions' end offsets from the broker and
   * sets the lag of every partition assigned to this replica, idle ones too. Resolves to
   * whether the broker answered: it is also the liveness monitor's broker probe.
   */
  sample(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * SPEC §8 "consumer lag per partition", from the source: what the group has committed against
 * what the partition holds, so that a consumer that processes nothing still shows its lag
 * growing (a lag set by the consumer after each batch freezes when it stops).
 */
export function createConsumerLagSampler(options: {
  /** an admin client of its own, created without retries: a sample must answer promptly */
  admin: Admin;
  groupId: string;
  topic: string;
  progress: ConsumerProgress;
  metrics: Pick<Metrics, 'consumerLag' | 'lagSamples'>;
}): ConsumerLagSampler {
  let connected: Promise<void> | undefined;
  // The liveness monitor's probe may be reading when the service stops: close() waits for that
  // read, and no read starts after it. A request still running after the disconnect reconnects
  // the admin client, and that socket holds the stopped process open until the shutdown
  // deadline ends it with exit 1 (test/integration/dev-command.test.ts).
  let closed = false;
  let reading: Promise<unknown> = Promise.resolve();

  async function readLags(): Promise<PartitionLag[]> {
    connected ??= options.admin.connect();
    await connected;
    // Both requests settle before the read does: with Promise.all, one failing left the other
    // running, and its metadata refresh reconnected the admin client after sample() had
    // disconnected it, a socket nothing would close.
    const [committedRead, endsRead] = await Promise.allSettled([
      options.admin.fetchOffsets({ groupId: options.groupId, topics: [options.topic] }),
      options.admin.fetchTopicOffsets(options.topic),
    ]);
    if (committedRead.status === 'rejected') throw committedRead.reason;
    if (endsRead.status === 'rejected') throw endsRead.reason;
    const committed = committedRead.value;
    const ends = endsRead.value;
    const committedOf = new Map(
      (committed.find(({ topic }) => topic === options.topic)?.partitions ?? []).map(
        ({ partition, offset }) => [partition, BigInt(offset)],
      ),
    );
    return ends.map(({ partition, high, low }) => {
      const position = committedOf.get(partition) ?? -1n;
      // No committed offset yet: the consumer starts at the beginning (fromBeginning).
      const from = position >= 0n ? position : BigInt(low);
      return { topic: options.topic, partition, lag: Math.max(0, Number(BigInt(high) - from)) };
    });
  }

  return {
    async sample() {
      if (closed) return false;
      let lags: PartitionLag[];
      try {
        const read = readLags();
        reading = read.catch(() => {});
        lags = await read;
      } catch {
        options.metrics.lagSamples.inc({ outcome: 'failed' });
        // Connect afresh next time rather than trust a client an outage may have broken.
        const stale = connected;
        connected = undefined;
        if (stale) await options.admin.disconnect().catch(() => {});
        return false;
      }
      options.metrics.lagSamples.inc({ outcome: 'ok' });
      options.progress.lagSampled(lags);
      const assigned = new Set(
        options.progress
          .snapshot()
          .partitions.filter(({ topic }) => topic === options.topic)
          .map(({ partition }) => partition),
      );
      options.metrics.consumerLag.reset();
      for (const { topic, partition, lag } of lags) {
        if (assigned.has(partition))
          options.metrics.consumerLag.set({ topic, partition: String(partition) }, lag);
      }
      return true;
    },
    async close() {
      closed = true;
      await reading;
      const open = connected;
      connected = undefined;
      if (open) await options.admin.disconnect().catch(() => {});
    },
  };
}
