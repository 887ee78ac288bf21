import type { EachBatchPayload } from 'kafkajs';
import { SERVICE_FAILURE_CODES } from '../../contracts/error-codes.ts';
import { CustomerSyncError } from '../../errors.ts';

/** The offset to commit for one partition: the next one to read. */
export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: string;
  /**
   * The consumer's group generation when kafkajs handed the chunk's batch over
   * (update-consumer.ts counts rebalances). kafkajs sends a commit with the generation current when it is sent, so one
   * sent after a rebalance would be taken by the broker as the new member's: it is not sent.
   */
  generation?: number;
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
export function sharingOffsetCommits(
  options: { currentGeneration?: () => number } = {},
): CommitOffset {
  let waiting: WaitingCommit[] = [];

  function commitAlone(commit: WaitingCommit): Promise<void> {
    // Also sent again after a shared request failed, when the group may have moved on.
    if (!isCurrent(commit)) return Promise.reject(staleCommit(commit.offset));
    return commit.payload.commitOffsetsIfNecessary({ topics: topicsOf([commit]) });
  }

  /** whether the commit's generation is still the group's: kafkajs sends with the current one */
  function isCurrent(commit: WaitingCommit): boolean {
    const asked = commit.offset.generation;
    return asked === undefined || asked === options.currentGeneration?.();
  }

  function dispatch() {
    // Checked here, as the request is built: kafkajs reads the generation as it builds it.
    const group: WaitingCommit[] = [];
    for (const commit of waiting)
      if (isCurrent(commit)) group.push(commit);
      else commit.settle(Promise.reject(staleCommit(commit.offset)));
    waiting = [];
    if (group.length === 0) return;
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

/** What a commit hears when it was not sent because its group generation has gone. */
export function staleCommit(offset: PartitionOffset): CustomerSyncError {
  return new CustomerSyncError(
    SERVICE_FAILURE_CODES.kafkaCommitStale,
    `offset ${offset.offset} of ${offset.topic}[${offset.partition}] not committed: the group rebalanced after its chunk was applied`,
    { canRetry: false },
  );
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
