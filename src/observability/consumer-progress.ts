/**
 * What the consumer loop has done lately, as the liveness rule (liveness-rules.ts) and the
 * progress metrics read it. The consumer loop and the lag sampler write it; nothing here
 * does I/O, and every method is cheap enough to call once per chunk.
 */
export interface ConsumerProgress {
  /** joined the group with this assignment (topic -> partitions); replaces the previous one */
  joined(assignment: Record<string, number[]>): void;
  /** left the group (crashed, stopped, or kafkajs restarting it) */
  left(): void;
  /** stopping for good: the consumer rules no longer apply (SPEC §4.9) */
  stopping(): void;
  /** a fetch from the broker completed (with or without messages) */
  polled(): void;
  /**
   * a chunk of a partition is being applied: `oldestTimestampMs` is its first message's, and
   * `endOffset` the offset its commit will move the partition to (its last message's + 1)
   */
  chunkStarted(
    topic: string,
    partition: number,
    oldestTimestampMs: number,
    endOffset: bigint,
  ): void;
  /**
   * the partition's offset was committed up to `offset`: every chunk that ends there or before
   * is no longer pending. Commits land after the next chunk has started (update-consumer.ts
   * commits in the background), so this is by offset, not "the chunk in flight".
   */
  committed(topic: string, partition: number, offset: bigint): void;
  /**
   * the partition is paused on a record batch this process cannot read, reported and fetched
   * again with backoff (update-consumer.ts): held back on purpose, not stuck
   */
  heldBack(topic: string, partition: number): void;
  /** the lag of the assigned partitions, as the broker reports it */
  lagSampled(lags: readonly PartitionLag[]): void;
  snapshot(): ProgressSnapshot;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  /** messages between the group's committed offset and the end of the partition */
  lag: number;
}

/** One assigned partition, as of the snapshot. Times are epoch milliseconds. */
export interface PartitionProgress {
  topic: string;
  partition: number;
  assignedAt: number;
  /** the last commit of this partition by this replica since it was assigned */
  lastCommitAt?: number;
  /** the latest lag sampled; undefined until the first sample after the assignment */
  lag?: number;
  /** since when the sampled lag has been above 0 without a break; undefined while it is 0 */
  waitingSince?: number;
  /** the timestamp of the oldest message being applied and not committed yet */
  oldestPendingTimestamp?: number;
  /** the latest attempt at a record batch that cannot be read (heldBack) */
  heldBackAt?: number;
}

export interface ProgressSnapshot {
  /** started and not stopping: only then do the consumer rules apply */
  running: boolean;
  member: boolean;
  /** when `member` last changed (or the consumer started) */
  memberSince: number;
  /** the last completed fetch; the start when there was none yet */
  lastPollAt: number;
  partitions: PartitionProgress[];
}

const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;

interface PendingChunk {
  endOffset: bigint;
  oldestTimestampMs: number;
}

const oldestOf = (chunks: ReadonlyArray<{ oldestTimestampMs: number }>) =>
  chunks.reduce((oldest, chunk) => Math.min(oldest, chunk.oldestTimestampMs), Infinity);

/**
 * Pending chunks kept per partition. Only commits that keep failing let more pile up; beyond
 * this the two oldest are kept as one, ending where the later ends and as old as the older:
 * the age reported stays the oldest's until a commit covers both.
 */
const MAX_PENDING_CHUNKS = 64;

export function createConsumerProgress(now: () => number = Date.now): ConsumerProgress {
  const startedAt = now();
  let running = true;
  let member = false;
  let memberSince = startedAt;
  let lastPollAt = startedAt;
  let partitions = new Map<string, PartitionProgress>();
  /** per partition, the chunks started and not committed yet */
  const pendingChunks = new Map<string, PendingChunk[]>();

  const setMember = (value: boolean) => {
    if (member === value) return;
    member = value;
    memberSince = now();
  };

  return {
    joined(assignment) {
      const at = now();
      const next = new Map<string, PartitionProgress>();
      for (const [topic, assigned] of Object.entries(assignment)) {
        for (const partition of assigned) {
          const key = keyOf(topic, partition);
          // A partition kept across a rebalance keeps its history; a new one starts afresh.
          next.set(key, partitions.get(key) ?? { topic, partition, assignedAt: at });
        }
      }
      partitions = next;
      for (const key of pendingChunks.keys()) if (!next.has(key)) pendingChunks.delete(key);
      setMember(true);
      // Joining is the consumer loop at work: the first fetch comes right after it.
      lastPollAt = at;
    },
    left() {
      setMember(false);
    },
    stopping() {
      running = false;
    },
    polled() {
      lastPollAt = now();
    },
    chunkStarted(topic, partition, oldestTimestampMs, endOffset) {
      const key = keyOf(topic, partition);
      const progress = partitions.get(key);
      if (!progress) return;
      const pending = pendingChunks.get(key) ?? [];
      // A chunk read again (after a rebalance or an abandoned attempt) is pending once.
      if (!pending.some((chunk) => chunk.endOffset === endOffset)) {
        pending.push({ endOffset, oldestTimestampMs });
        // In offset order: a partition read again after a rebalance may start further back.
        pending.sort((a, b) => Number(a.endOffset - b.endOffset));
      }
      if (pending.length > MAX_PENDING_CHUNKS) {
        const [first, second] = pending.splice(0, 2) as [PendingChunk, PendingChunk];
        pending.unshift({
          endOffset: second.endOffset,
          oldestTimestampMs: Math.min(first.oldestTimestampMs, second.oldestTimestampMs),
        });
      }
      pendingChunks.set(key, pending);
      progress.oldestPendingTimestamp = oldestOf(pending);
    },
    committed(topic, partition, offset) {
      const key = keyOf(topic, partition);
      const progress = partitions.get(key);
      if (!progress) return;
      progress.lastCommitAt = now();
      const pending = (pendingChunks.get(key) ?? []).filter((chunk) => chunk.endOffset > offset);
      if (pending.length > 0) {
        pendingChunks.set(key, pending);
        progress.oldestPendingTimestamp = oldestOf(pending);
      } else {
        pendingChunks.delete(key);
        delete progress.oldestPendingTimestamp;
      }
    },
    heldBack(topic, partition) {
      const progress = partitions.get(keyOf(topic, partition));
      if (progress) progress.heldBackAt = now();
    },
    lagSampled(lags) {
      const at = now();
      for (const { topic, partition, lag } of lags) {
        const progress = partitions.get(keyOf(topic, partition));
        if (!progress) continue;
        progress.lag = lag;
        if (lag <= 0) delete progress.waitingSince;
        else progress.waitingSince ??= at;
      }
    },
    snapshot() {
      return {
        running,
        member,
        memberSince,
        lastPollAt,
        partitions: [...partitions.values()].map((progress) => ({ ...progress })),
      };
    },
  };
}
