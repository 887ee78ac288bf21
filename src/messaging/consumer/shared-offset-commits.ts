import type { EachBatchPayload } from 'kafkajs';

/** The offset to commit for one partition: the next one to read. */
export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

/** Commits one partition's offset on behalf of the batch that applied up to it. */
export type CommitOffset = (payload: EachBatchPayload, offset: PartitionOffset) => Promise<void>;

/**
 * The OffsetCommit errors the broker gives one partition of a request (the others may have been
 * committed); the rest (ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS, NOT_COORDINATOR, …) it gives
 * every partition alike.
 */
const PARTITION_ERRORS = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'OFFSET_METADATA_TOO_LARGE',
  'INVALID_COMMIT_OFFSET_SIZE',
  'TOPIC_AUTHORIZATION_FAILED',
]);

interface WaitingCommit {
  payload: EachBatchPayload;
  offset: PartitionOffset;
  settle: (result: Promise<void>) => void;
}

/**
 * Commits that the partitions' batches ask for in the same turn of the event loop go to the
 * broker as one OffsetCommit request. The chunks of a fetch that shared a transaction
 * (shared-transactions.ts) finish together and commit together; one request each would wait
 * for the others, since the broker answers one connection's requests one at a time.
 *
 * A commit is asked for only after its chunk is applied, so sharing changes when an offset
 * moves by a turn of the event loop and never moves one further than its own chunk (SPEC
 * §4.1). If the shared request fails for one of its partitions (PARTITION_ERRORS), each
 * partition's commit is sent again on its own, so one partition's trouble does not hold the
 * others' offsets back. Any other failure is the group's (a rebalance, the coordinator away):
 * it would fail each of them alike, so every caller hears of it at once and reports it.
 */
export function sharingOffsetCommits(): CommitOffset {
  let waiting: WaitingCommit[] = [];

  function commitAlone(commit: WaitingCommit): Promise<void> {
    return commit.payload.commitOffsetsIfNecessary({ topics: topicsOf([commit]) });
  }

  function dispatch() {
    const group = waiting;
    waiting = [];
    if (group.length === 1) {
      const [only] = group as [WaitingCommit];
      only.settle(commitAlone(only));
      return;
    }
    const [first] = group as [WaitingCommit, ...WaitingCommit[]];
    first.payload.commitOffsetsIfNecessary({ topics: topicsOf(group) }).then(
      () => {
        for (const commit of group) commit.settle(Promise.resolve());
      },
      (error: { type?: unknown }) => {
        const partitionError = PARTITION_ERRORS.has(String(error?.type));
        for (const commit of group)
          commit.settle(partitionError ? commitAlone(commit) : Promise.reject(error));
      },
    );
  }

  return (payload, offset) =>
    new Promise<void>((resolve, reject) => {
      if (waiting.length === 0) setImmediate(dispatch);
      waiting.push({ payload, offset, settle: (result) => result.then(resolve, reject) });
    });
}

/** One entry per partition; should a partition ask twice in one turn, the furthest offset wins. */
function topicsOf(group: readonly WaitingCommit[]) {
  const byTopic = new Map<string, Map<number, string>>();
  for (const { offset } of group) {
    const partitions = byTopic.get(offset.topic) ?? new Map<number, string>();
    const known = partitions.get(offset.partition);
    if (known === undefined || BigInt(offset.offset) > BigInt(known))
      partitions.set(offset.partition, offset.offset);
    byTopic.set(offset.topic, partitions);
  }
  return [...byTopic].map(([topic, partitions]) => ({
    topic,
    partitions: [...partitions].map(([partition, offset]) => ({ partition, offset })),
  }));
}
