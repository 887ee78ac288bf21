import { monitorEventLoopDelay } from 'node:perf_hooks';
import { withDeadline } from '../application/retry-policy.ts';
import type { ConsumerProgress } from './consumer-progress.ts';
import {
  assessLiveness,
  type LivenessProblem,
  type LivenessThresholds,
  type LivenessVerdict,
} from './liveness-rules.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';

/** Asks a dependency whether it answers; a probe that throws or overruns is a no. */
export interface DependencyProbe {
  name: string;
  probe(): Promise<boolean>;
}

export interface LivenessMonitor {
  /** resolves once the first round of probes has answered (or run out of time) */
  start(): Promise<void>;
  stop(): void;
  /** what /healthz answers */
  verdict(): LivenessVerdict;
  /** whether the named dependency answered its latest probe (a readiness check) */
  answering(name: string): boolean;
}

/** The longest event-loop delay is judged over this recent window. */
export const EVENT_LOOP_WINDOW_MS = 10_000;
const TICK_MS = 1_000;

/** The event loop's recent maxima, in ms; `takeMaxDelayMs` reads and starts a new interval. */
export interface EventLoopDelaySource {
  takeMaxDelayMs(): number;
  close(): void;
}

/** perf_hooks' sampler: a 20 ms timer whose lateness is the loop's delay. */
export function monitorEventLoop(): EventLoopDelaySource {
  const histogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  return {
    takeMaxDelayMs() {
      // max is 0 before the first sample; the resolution itself is not a delay.
      const maxMs = histogram.count > 0 ? Math.max(0, histogram.max / 1e6 - 20) : 0;
      histogram.reset();
      return maxMs;
    },
    close: () => histogram.disable(),
  };
}

export interface LivenessMonitorOptions {
  progress: ConsumerProgress;
  /** the broker and the database: the consumer rules apply only while all of them answer */
  probes: readonly DependencyProbe[];
  probeIntervalMs: number;
  thresholds: LivenessThresholds;
  metrics: Pick<
    Metrics,
    'live' | 'secondsSinceCommit' | 'secondsSincePoll' | 'consumerLagSeconds' | 'eventLoopDelayMax'
  >;
  logger: Logger;
  now?: () => number;
  eventLoop?: EventLoopDelaySource;
}

/**
 * Runs the dependency probes and the liveness rule (liveness-rules.ts) on timers, keeps the
 * progress metrics current, and logs when the verdict changes. Never throws: a probe that
 * fails is an answer ("not answering"), not an error.
 */
export function createLivenessMonitor(options: LivenessMonitorOptions): LivenessMonitor {
  const now = options.now ?? Date.now;
  const log = options.logger.child({ component: 'liveness' });
  const answeringSince = new Map<string, number | undefined>(
    options.probes.map(({ name }) => [name, undefined]),
  );
  const inFlight = new Set<string>();
  const recentMaxima: number[] = [];
  let eventLoop: EventLoopDelaySource | undefined;
  let timers: NodeJS.Timeout[] = [];
  let current: LivenessVerdict = { live: true, problems: [] };

  function runProbes(): Promise<unknown> {
    return Promise.all(
      options.probes.map(({ name, probe }) => {
        if (inFlight.has(name)) return undefined; // still waiting: its deadline will say no
        inFlight.add(name);
        return withDeadline(() => probe(), options.probeIntervalMs)
          .catch(() => false)
          .then((answered) => {
            if (!answered) answeringSince.set(name, undefined);
            else if (answeringSince.get(name) === undefined) answeringSince.set(name, now());
          })
          .finally(() => inFlight.delete(name));
      }),
    );
  }

  /** A probe still out is judged when its deadline (the probe interval) makes it a no. */
  function dependenciesAnsweringSince(): number | undefined {
    let latest = 0;
    for (const since of answeringSince.values()) {
      if (since === undefined) return undefined;
      latest = Math.max(latest, since);
    }
    return latest;
  }

  function tick() {
    const at = now();
    if (eventLoop) {
      recentMaxima.push(eventLoop.takeMaxDelayMs());
      while (recentMaxima.length > EVENT_LOOP_WINDOW_MS / TICK_MS) recentMaxima.shift();
    }
    const eventLoopMaxDelayMs = Math.max(0, ...recentMaxima);
    const progress = options.progress.snapshot();
    const verdict = assessLiveness(
      {
        progress,
        dependenciesAnsweringSince: dependenciesAnsweringSince(),
        eventLoopMaxDelayMs,
      },
      options.thresholds,
      at,
    );
    report(verdict);

    const { metrics } = options;
    metrics.eventLoopDelayMax.set(eventLoopMaxDelayMs / 1000);
    metrics.secondsSincePoll.set(Math.max(0, at - progress.lastPollAt) / 1000);
    metrics.secondsSinceCommit.reset();
    metrics.consumerLagSeconds.reset();
    for (const partition of progress.partitions) {
      const labels = { topic: partition.topic, partition: String(partition.partition) };
      const since = Math.max(partition.assignedAt, partition.lastCommitAt ?? 0);
      metrics.secondsSinceCommit.set(labels, Math.max(0, at - since) / 1000);
      const oldest = partition.oldestPendingTimestamp;
      metrics.consumerLagSeconds.set(
        labels,
        oldest === undefined ? 0 : Math.max(0, at - oldest) / 1000,
      );
    }
  }

  function report(verdict: LivenessVerdict) {
    options.metrics.live.set(verdict.live ? 1 : 0);
    const describe = (problems: LivenessProblem[]) =>
      problems.map((problem) => problem.reason).join(',');
    if (describe(verdict.problems) !== describe(current.problems)) {
      if (verdict.live) log.info('live again: the consumer is making progress');
      else
        log.error({ problems: verdict.problems }, 'not live: the replica is not making progress');
    }
    current = verdict;
  }

  return {
    async start() {
      if (timers.length > 0) return;
      eventLoop = options.eventLoop ?? monitorEventLoop();
      timers = [setInterval(runProbes, options.probeIntervalMs), setInterval(tick, TICK_MS)];
      for (const timer of timers) timer.unref();
      // /readyz reads the probes' answers: have the first ones before it is asked.
      await runProbes();
    },
    stop() {
      for (const timer of timers) clearInterval(timer);
      timers = [];
      eventLoop?.close();
      eventLoop = undefined;
    },
    verdict: () => current,
    answering: (name) => answeringSince.get(name) !== undefined,
  };
}
