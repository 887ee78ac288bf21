import type { EachBatchPayload } from 'kafkajs';
import type { CommitOffset, PartitionOffset } from './shared-offset-commits.ts';

export interface BackgroundOffsetCommits {
  /**
   * Starts committing `offset` and returns at once with the commit's outcome. A partition's
   * commits reach the broker in the order they were asked for: each waits for the one before
   * it to settle, so an offset never moves back, even when an earlier commit is sent again.
   */
  commit(payload: EachBatchPayload, offset: PartitionOffset): Promise<void>;
  /** settles once every commit asked for so far has (whether or not it succeeded) */
  settled(): Promise<void>;
}

/**
 * Offset commits that do not hold up the next chunk or the next fetch. A commit is asked for
 * only after its chunk's transaction has committed (SPEC §4.1); whether the consumer waits for
 * the broker's answer before going on changes nothing that is kept: a commit that fails or
 * never arrives leaves the chunk to be read again, and applying it again finds every event a
 * duplicate (SPEC §4.2), as after a crash. What waiting cost was latency: kafkajs fetches
 * again only when every batch of the last fetch is done, so each round of commits (one
 * OffsetCommit round trip, 5–7 ms on a busy machine) was paid in series by every event.
 */
export function committingInBackground(commitOffset: CommitOffset): BackgroundOffsetCommits {
  const latestByPartition = new Map<string, Promise<void>>();
  const inFlight = new Set<Promise<void>>();

  return {
    commit(payload, offset) {
      const key = `${offset.topic}:${offset.partition}`;
      // `done` promises never reject, so the next commit waits for this one whatever its fate.
      const previous = latestByPartition.get(key) ?? Promise.resolve();
      const committed = previous.then(() => commitOffset(payload, offset));
      const done = committed.then(
        () => {},
        () => {},
      );
      latestByPartition.set(key, done);
      inFlight.add(done);
      void done.then(() => {
        inFlight.delete(done);
        if (latestByPartition.get(key) === done) latestByPartition.delete(key);
      });
      return committed;
    },
    async settled() {
      while (inFlight.size > 0) await Promise.all(inFlight);
    },
  };
}
