import type { ProgressSnapshot } from './consumer-progress.ts';

/**
 * SPEC §8: `/healthz` fails when the replica is alive but cannot make progress, never because
 * a dependency is down. The rule, precisely (README "Operating it" says the same):
 *
 * 1. The event loop was blocked longer than `eventLoopBlockedMs` within the recent window:
 *    red, whatever the dependencies do (nothing in the process can run meanwhile).
 * 2. Otherwise, only while the broker and the database have both answered every probe for
 *    the last `progressTimeoutMs` (the "calm" period) can the consumer be stuck:
 *    a. it has been out of its consumer group for `progressTimeoutMs` (crashed, or left
 *       without rejoining);
 *    b. it is in the group and has not completed a fetch for `progressTimeoutMs`;
 *    c. a partition assigned to it has had messages waiting (sampled lag > 0) and nothing of
 *       it was committed for `progressTimeoutMs`.
 *    Each clock starts at the latest of: the event it waits for, the assignment, the start of
 *    the calm period; for (c) also the moment the lag became > 0. So a partition paused while
 *    it retries a database or broker outage is not stuck: readiness is red, liveness green,
 *    and it gets the full timeout again once both answer. A partition waiting on something
 *    inside a database that answers (a lock held elsewhere, a wedged connection) is stuck.
 * 3. While the service is stopping, only rule 1 applies.
 */
export interface LivenessThresholds {
  progressTimeoutMs: number;
  eventLoopBlockedMs: number;
}

export type LivenessProblem =
  | { reason: 'event_loop_blocked'; blockedMs: number }
  | { reason: 'not_in_consumer_group'; forMs: number }
  | { reason: 'not_polling'; forMs: number }
  | { reason: 'not_committing'; topic: string; partition: number; lag: number; forMs: number };

export interface LivenessInput {
  progress: ProgressSnapshot;
  /** since when every dependency has answered; undefined while one does not */
  dependenciesAnsweringSince: number | undefined;
  /** the longest event-loop delay within the recent window */
  eventLoopMaxDelayMs: number;
}

export interface LivenessVerdict {
  live: boolean;
  problems: LivenessProblem[];
}

export function assessLiveness(
  { progress, dependenciesAnsweringSince, eventLoopMaxDelayMs }: LivenessInput,
  thresholds: LivenessThresholds,
  now: number,
): LivenessVerdict {
  const problems: LivenessProblem[] = [];
  if (eventLoopMaxDelayMs > thresholds.eventLoopBlockedMs)
    problems.push({ reason: 'event_loop_blocked', blockedMs: Math.round(eventLoopMaxDelayMs) });

  if (progress.running && dependenciesAnsweringSince !== undefined) {
    const overdue = (...since: Array<number | undefined>) => {
      const forMs = now - Math.max(dependenciesAnsweringSince, ...since.map((at) => at ?? 0));
      return forMs > thresholds.progressTimeoutMs ? forMs : undefined;
    };
    if (!progress.member) {
      const forMs = overdue(progress.memberSince);
      if (forMs !== undefined) problems.push({ reason: 'not_in_consumer_group', forMs });
    } else {
      const forMs = overdue(progress.memberSince, progress.lastPollAt);
      if (forMs !== undefined) problems.push({ reason: 'not_polling', forMs });
      for (const partition of progress.partitions) {
        if (partition.lag === undefined || partition.lag <= 0) continue;
        const stalledMs = overdue(
          partition.assignedAt,
          partition.lastCommitAt,
          partition.waitingSince,
        );
        if (stalledMs !== undefined)
          problems.push({
            reason: 'not_committing',
            topic: partition.topic,
            partition: partition.partition,
            lag: partition.lag,
            forMs: stalledMs,
          });
      }
    }
  }
  return { live: problems.length === 0, problems };
}
