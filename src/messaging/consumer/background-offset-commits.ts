import type { EachBatchPayload } from 'kafkajs';
import { type CommitOffset, type PartitionOffset, staleCommit } from './shared-offset-commits.ts';

export interface BackgroundOffsetCommits {
  /**
   * Starts committing `offset` and returns at once with the commit's outcome. Per partition
   * one commit is on its way at a time; those asked for meanwhile wait, and only the latest
   * of them is sent (it covers the chunks before it), so a partition's offset moves forward
   * in the order its chunks were applied and the queue never grows.
   */
  commit(payload: EachBatchPayload, offset: PartitionOffset): Promise<void>;
  /** settles once every commit asked for so far has (whether or not it succeeded) */
  settled(): Promise<void>;
}

interface Caller {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** The commit a partition will send next, and whom its outcome is for. */
interface NextCommit {
  payload: EachBatchPayload;
  offset: PartitionOffset;
  callers: Caller[];
}

interface PartitionCommits {
  sending: boolean;
  next?: NextCommit;
}

/**
 * Offset commits that do not hold up the next chunk or the next fetch. A commit is asked for
 * only after its chunk's transaction has committed (SPEC §4.1); whether the consumer waits for
 * the broker's answer before going on changes nothing that is kept: a commit that fails or
 * never arrives leaves the chunk to be read again, and applying it again finds every event a
 * duplicate (SPEC §4.2), as after a crash. What waiting cost was latency: kafkajs fetches
 * again only when every batch of the last fetch is done, so each round of commits (one
 * OffsetCommit round trip, 5–7 ms on a busy machine) was paid in series by every event.
 *
 * A commit asked for in another group generation than the one waiting does not stand for it
 * (after a rebalance the partition may be read again from further back): the one waiting is
 * then told it is stale, as shared-offset-commits.ts tells a commit whose generation is gone.
 */
export function committingInBackground(commitOffset: CommitOffset): BackgroundOffsetCommits {
  const partitions = new Map<string, PartitionCommits>();
  let whenIdle: Array<() => void> = [];

  function send(key: string, state: PartitionCommits) {
    const next = state.next;
    if (next === undefined) {
      partitions.delete(key);
      if (partitions.size === 0) {
        for (const idle of whenIdle) idle();
        whenIdle = [];
      }
      return;
    }
    state.next = undefined;
    state.sending = true;
    void commitOffset(next.payload, next.offset)
      .then(
        () => {
          for (const caller of next.callers) caller.resolve();
        },
        (error: unknown) => {
          for (const caller of next.callers) caller.reject(error);
        },
      )
      .finally(() => {
        state.sending = false;
        send(key, state);
      });
  }

  return {
    commit(payload, offset) {
      const key = `${offset.topic}:${offset.partition}`;
      const state = partitions.get(key) ?? { sending: false };
      partitions.set(key, state);
      return new Promise<void>((resolve, reject) => {
        const caller = { resolve, reject };
        const waiting = state.next;
        if (waiting !== undefined && waiting.offset.generation !== offset.generation) {
          for (const replaced of waiting.callers) replaced.reject(staleCommit(waiting.offset));
          state.next = undefined;
        }
        if (state.next === undefined) state.next = { payload, offset, callers: [caller] };
        else {
          // Within a generation a partition's chunks come in offset order; should one not,
          // the furthest offset is what the waiting commit sends.
          if (BigInt(offset.offset) > BigInt(state.next.offset.offset)) {
            state.next.payload = payload;
            state.next.offset = offset;
          }
          state.next.callers.push(caller);
        }
        if (!state.sending) send(key, state);
      });
    },
    settled() {
      if (partitions.size === 0) return Promise.resolve();
      return new Promise<void>((resolve) => whenIdle.push(resolve));
    },
  };
}
