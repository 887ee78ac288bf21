import type { Admin, Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { CustomerSyncError } from '../../errors.ts';
import {
  type UnreadableRecordBatch,
  unreadableRecordBatchOf,
} from '../consumer/unreadable-record-batches.ts';

/** Offsets `[start, end)` of one partition: `start` is read, `end` is not. */
export interface PartitionRange {
  partition: number;
  start: bigint;
  end: bigint;
}

/** One end of a range as an operator gives it: an offset, a Kafka timestamp, or an edge. */
export type RangeBound =
  | { kind: 'offset'; offset: bigint }
  | { kind: 'time'; at: Date }
  | { kind: 'earliest' }
  | { kind: 'latest' };

/**
 * Turns `--from/--to[/--partition]` into offsets, once, at the start: the end of a range is
 * the log end captured now, so a reader of the range stops by itself however fast producers
 * write (`replay`, `dlq`). A time is resolved with the broker's offsets-for-times: the first
 * offset whose timestamp is at or after it, so `[from, to)` holds the messages stamped
 * from <= t < to. Every partition of the topic is in the result; unselected ones are empty.
 */
export async function resolveTopicRange(
  admin: Admin,
  topic: string,
  range: { from: RangeBound; to?: RangeBound; partitions?: readonly number[] },
): Promise<PartitionRange[]> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const known = new Set(offsets.map((entry) => entry.partition));
  const unknown = (range.partitions ?? []).filter((partition) => !known.has(partition));
  if (unknown.length > 0) {
    throw new CustomerSyncError(
      'range.unknown_partition',
      `${topic} has no partition ${unknown.join(', ')} (it has ${known.size})`,
      { canRetry: false },
    );
  }
  const atTime = async (bound: RangeBound) =>
    bound.kind === 'time'
      ? new Map(
          (await admin.fetchTopicOffsetsByTimestamp(topic, bound.at.getTime())).map((entry) => [
            entry.partition,
            BigInt(entry.offset),
          ]),
        )
      : undefined;
  const fromTimes = await atTime(range.from);
  const toTimes = range.to ? await atTime(range.to) : undefined;
  const selected = range.partitions ? new Set(range.partitions) : known;

  return offsets
    .map(({ partition, low, high }) => {
      const first = BigInt(low);
      const last = BigInt(high);
      const clamp = (offset: bigint) => (offset < first ? first : offset > last ? last : offset);
      const offsetOf = (bound: RangeBound, times: Map<number, bigint> | undefined) => {
        if (bound.kind === 'earliest') return first;
        if (bound.kind === 'latest') return last;
        if (bound.kind === 'offset') return clamp(bound.offset);
        return clamp(times?.get(partition) ?? last);
      };
      if (!selected.has(partition)) return { partition, start: last, end: last };
      const start = offsetOf(range.from, fromTimes);
      const end = range.to ? offsetOf(range.to, toTimes) : last;
      return { partition, start, end: end < start ? start : end };
    })
    .sort((a, b) => a.partition - b.partition);
}

/** The whole retained log of every partition, as it ends now. */
export function wholeTopic(admin: Admin, topic: string): Promise<PartitionRange[]> {
  return resolveTopicRange(admin, topic, { from: { kind: 'earliest' } });
}

export function messagesIn(ranges: readonly PartitionRange[]): bigint {
  return ranges.reduce((sum, range) => sum + (range.end - range.start), 0n);
}

export interface RangeBatch {
  partition: number;
  /** in offset order, all inside the range, none handed out before */
  messages: KafkaMessage[];
  heartbeat(): Promise<void>;
}

export interface ReadTopicRangeOptions {
  kafka: Kafka;
  topic: string;
  /**
   * A group of this read's own: offsets are never committed, so it leaves nothing behind and
   * never moves anyone else's group. Positions come from the ranges alone.
   */
  groupId: string;
  ranges: readonly PartitionRange[];
  maxBytesPerPartition?: number;
  partitionsConsumedConcurrently?: number;
  sessionTimeoutMs?: number;
  /** stops the read between batches */
  signal?: AbortSignal;
  /**
   * Handles messages of one partition, in order. Returns how many of them it finished (all of
   * them when it returns nothing); fewer means it was interrupted, and the read stops there.
   * Throwing stops the read and rejects it.
   */
  onBatch(batch: RangeBatch): Promise<number | undefined>;
}

export interface RangeReadResult {
  /** every partition reached the end of its range */
  completed: boolean;
  /** per partition, the first offset not handled (the end of the range when completed) */
  positions: Map<number, bigint>;
}

/**
 * Reads fixed offset ranges of a topic (the plain partition reads `replay` and `dlq` need) and
 * stops by itself at their ends. kafkajs reads only through a group, so this joins a group of
 * its own, seeks every partition to its start and never commits. kafkajs is not allowed to
 * restart the consumer behind our back, since a restart would forget the seeks: a crash fails
 * the read, and rerunning the command is the recovery.
 */
export async function readTopicRange(options: ReadTopicRangeOptions): Promise<RangeReadResult> {
  const positions = new Map(options.ranges.map((range) => [range.partition, range.start]));
  const ends = new Map(options.ranges.map((range) => [range.partition, range.end]));
  const remaining = new Set(
    options.ranges.filter((range) => range.start < range.end).map((range) => range.partition),
  );
  if (remaining.size === 0 || options.signal?.aborted) {
    return { completed: remaining.size === 0, positions };
  }

  const consumer: Consumer = options.kafka.consumer({
    groupId: options.groupId,
    maxWaitTimeInMs: 200,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 1_048_576,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: 3_000,
    retry: { retries: 8, initialRetryTime: 300, restartOnFailure: async () => false },
  });

  let settle: (outcome: { error?: unknown }) => void = () => {};
  const finished = new Promise<{ error?: unknown }>((resolve) => {
    settle = resolve;
  });
  const markDone = (partition: number) => {
    remaining.delete(partition);
    consumer.pause([{ topic: options.topic, partitions: [partition] }]);
    if (remaining.size === 0) settle({});
  };
  const onAbort = () => settle({});
  options.signal?.addEventListener('abort', onAbort, { once: true });

  consumer.on(consumer.events.CRASH, (event) => {
    settle({ error: event.payload.error });
  });
  // A fetch that held only control records or compacted-away offsets never reaches eachBatch;
  // it still moves the position when it starts where the read stands.
  consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
    const { partition, batchSize, firstOffset, lastOffset } = event.payload;
    const end = ends.get(partition);
    const position = positions.get(partition);
    if (batchSize > 0 || end === undefined || position === undefined) return;
    if (!remaining.has(partition) || BigInt(firstOffset ?? lastOffset) > position) return;
    const next = BigInt(lastOffset) + 1n;
    if (next <= position) return;
    positions.set(partition, next < end ? next : end);
    if (next >= end) markDone(partition);
  });

  try {
    await consumer.connect();
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const { partition } = batch;
        const end = ends.get(partition);
        const position = positions.get(partition);
        if (end === undefined || position === undefined || !remaining.has(partition)) return;
        if (options.signal?.aborted || !isRunning() || isStale()) return;
        // A batch this process cannot decode ends the read with a clear error: a range read
        // must not step over it (SPEC §4.5), and rerunning after the fix reads it.
        const unreadable = batch.messages
          .map(unreadableRecordBatchOf)
          .find(
            (marker) =>
              marker !== undefined &&
              BigInt(marker.lastOffset) >= position &&
              BigInt(marker.firstOffset) < end,
          );
        const readable = unreadable
          ? batch.messages.filter(
              (message) => BigInt(message.offset) < BigInt(unreadable.firstOffset),
            )
          : batch.messages;
        // After a rebalance kafkajs may fetch again from an older offset: skip what was handled.
        const messages = readable.filter((message) => {
          const offset = BigInt(message.offset);
          return offset >= position && offset < end;
        });
        let handled = messages.length;
        if (messages.length > 0) {
          try {
            const result = await options.onBatch({ partition, messages, heartbeat });
            if (result !== undefined) handled = result;
          } catch (error) {
            settle({ error });
            return;
          }
        }
        const last = messages[handled - 1];
        if (last !== undefined) {
          positions.set(partition, BigInt(last.offset) + 1n);
          resolveOffset(last.offset);
        }
        if (handled < messages.length) {
          settle({}); // interrupted inside the batch
          return;
        }
        if (unreadable) {
          settle({ error: unreadableBatchError(options.topic, partition, unreadable) });
          return;
        }
        const next = BigInt(batch.lastOffset()) + 1n;
        if (next >= end) {
          positions.set(partition, end);
          markDone(partition);
        }
      },
    });
    for (const range of options.ranges) {
      if (remaining.has(range.partition)) {
        consumer.seek({
          topic: options.topic,
          partition: range.partition,
          offset: range.start.toString(),
        });
      }
    }
    const idle = options.ranges
      .map((range) => range.partition)
      .filter((partition) => !remaining.has(partition));
    if (idle.length > 0) consumer.pause([{ topic: options.topic, partitions: idle }]);

    const outcome = await finished;
    if (outcome.error !== undefined) {
      throw outcome.error instanceof Error
        ? outcome.error
        : new CustomerSyncError('range.read_failed', 'reading the topic failed', {
            canRetry: true,
            cause: outcome.error,
          });
    }
    return { completed: remaining.size === 0, positions };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    // Nothing was committed, so a failed leave costs nothing but a session timeout.
    await consumer.disconnect().catch(() => {});
  }
}

function unreadableBatchError(
  topic: string,
  partition: number,
  unreadable: UnreadableRecordBatch,
): CustomerSyncError {
  return new CustomerSyncError(
    'kafka.unreadable_record_batch',
    `${topic} partition ${partition} offsets ${unreadable.firstOffset}-${unreadable.lastOffset} cannot be read: ${unreadable.reason}`,
    { canRetry: true },
  );
}
