import {
  type ConnectFailure,
  type Dependency,
  describeDependency,
  type WaitingReport,
  waitForDependency,
} from '../application/wait-for-dependency.ts';
import type { Config } from '../config/config.ts';
import { classifyKafkaFailure, kafkaDependency } from '../messaging/kafka/kafka-availability.ts';
import type { Logger } from '../observability/logger.ts';
import {
  classifyDatabaseFailure,
  databaseDependency,
} from '../persistence/database-availability.ts';

/**
 * Between two attempts to reach a dependency at start-up: from 250 ms up to 5 s, with full
 * jitter. Capped low so that a replica is ready within seconds of its dependency coming back.
 */
const START_UP_BACKOFF = { initialDelayMs: 250, maxDelayMs: 5_000 };
/** One probe that has not answered by then (a silent host, a black-holed route) has failed. */
const PROBE_TIMEOUT_MS = 15_000;

export interface AttemptOptions {
  /**
   * false for work that may rightly take long (a migration waiting for another replica's lock):
   * it is then bounded only by its own client's timeouts
   */
  timed?: boolean;
}

type Attempt<T> = (signal: AbortSignal) => Promise<T>;

/** The service's, the CLI's and `npm run dev`'s way to wait for Postgres and Kafka. */
export interface StartUpWaits {
  database<T>(attempt: Attempt<T>, options?: AttemptOptions): Promise<T>;
  kafka<T>(attempt: Attempt<T>, options?: AttemptOptions): Promise<T>;
  /** the dependency being waited for right now, with why, for /readyz; undefined if none */
  waitingFor(): string | undefined;
}

export interface StartUpWaitOptions {
  config: Pick<Config, 'kafka' | 'database'>;
  /** how long to wait in all; 0 waits for ever */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  onWaiting(report: WaitingReport): void;
  onAvailable?(dependency: Dependency, waitedMs: number): void;
}

export function createStartUpWaits(options: StartUpWaitOptions): StartUpWaits {
  const deadline = options.timeoutMs === 0 ? undefined : Date.now() + options.timeoutMs;
  let waiting: WaitingReport | undefined;
  const database = databaseDependency(options.config.database.url);
  const kafka = kafkaDependency(options.config);

  function waitFor<T>(
    dependency: Dependency,
    classify: (error: unknown) => ConnectFailure | undefined,
    attempt: Attempt<T>,
    { timed = true }: AttemptOptions = {},
  ): Promise<T> {
    return waitForDependency(dependency, attempt, {
      backoff: START_UP_BACKOFF,
      deadline,
      attemptTimeoutMs: timed ? PROBE_TIMEOUT_MS : undefined,
      classify,
      signal: options.signal,
      onWaiting(report) {
        waiting = report;
        options.onWaiting(report);
      },
      onAvailable(available, waitedMs) {
        waiting = undefined;
        options.onAvailable?.(available, waitedMs);
      },
    });
  }

  return {
    database: (attempt, attemptOptions) =>
      waitFor(database, classifyDatabaseFailure, attempt, attemptOptions),
    kafka: (attempt, attemptOptions) =>
      waitFor(kafka, classifyKafkaFailure, attempt, attemptOptions),
    waitingFor: () => (waiting ? describeWait(waiting) : undefined),
  };
}

/** `waiting for PostgreSQL at db:5432 (DATABASE_URL) since …: connection refused (ECONNREFUSED)` */
export function describeWait(report: WaitingReport): string {
  return `waiting for ${describeDependency(report.dependency)} since ${report.since.toISOString()}: ${report.reason}`;
}

/** The same, with when it tries next and when it gives up: one log line per report. */
export function describeWaitingReport(report: WaitingReport): string {
  const next = `next try in ${(report.nextAttemptInMs / 1000).toFixed(1)} s`;
  const end = report.givesUpAt
    ? `gives up at ${report.givesUpAt.toISOString()}`
    : 'waits for ever (STARTUP_TIMEOUT_MS=0)';
  return `${describeWait(report)}; ${report.attempts} attempt(s) since the last report, ${next}, ${end}`;
}

/** The service's account of its waits: one JSON line per report, and one when it is over. */
export function logStartUpWaits(
  logger: Logger,
): Pick<StartUpWaitOptions, 'onWaiting' | 'onAvailable'> {
  return {
    onWaiting: (report) =>
      logger.warn(
        {
          dependency: report.dependency.name,
          // not `address`: the log redaction takes that key for a customer's
          endpoint: report.dependency.address,
          variable: report.dependency.variable,
          waitingSince: report.since.toISOString(),
          attempts: report.attempts,
          reason: report.reason,
          nextAttemptInMs: report.nextAttemptInMs,
          givesUpAt: report.givesUpAt?.toISOString() ?? 'never',
        },
        describeWaitingReport(report),
      ),
    onAvailable: (dependency, waitedMs) =>
      logger.info(
        { dependency: dependency.name, endpoint: dependency.address, waitedMs },
        `${dependency.name} is reachable; start-up goes on`,
      ),
  };
}
