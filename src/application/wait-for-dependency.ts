import { CustomerSyncError } from '../errors.ts';
import {
  ATTEMPT_TIMED_OUT,
  type BackoffSettings,
  backoffDelayMs,
  sleep,
  withDeadline,
} from './retry-policy.ts';

/**
 * Waiting for Postgres or Kafka at start-up. A dependency that cannot be reached yet (restarting,
 * failing over, not scheduled yet) is a reason to wait and say so; a configuration that can
 * never work (credentials refused, no such database, TLS refused) is a reason to stop at once,
 * naming the variable to fix. Used by the service (main.ts), the CLI and `npm run dev`.
 */

/** Something start-up cannot go on without, as the operator finds it in the configuration. */
export interface Dependency {
  /** `PostgreSQL`, `Kafka` */
  name: string;
  /** host:port (a list for Kafka), never credentials */
  address: string;
  /** the variable that says where it is */
  variable: string;
}

/** What one failed attempt means for start-up. */
export type ConnectFailure =
  /** waiting can help: refused, reset, timed out, starting up */
  | { kind: 'unreachable'; reason: string }
  /**
   * the host name does not resolve: waiting helps for a while (Kubernetes and Compose publish a
   * name only once its pod or container runs), a name that stays unknown is a typo
   */
  | { kind: 'unresolved-name'; reason: string }
  /** waiting cannot help; `variable` is what to fix, `fix` says how when "check it" is not enough */
  | { kind: 'misconfigured'; reason: string; variable: string; fix?: string };

/** One log line's worth: the attempts since the previous report. */
export interface WaitingReport {
  dependency: Dependency;
  since: Date;
  attempts: number;
  reason: string;
  nextAttemptInMs: number;
  /** undefined: waits for ever */
  givesUpAt: Date | undefined;
}

/** Start-up waited as long as it may: exit 69 (EX_UNAVAILABLE). */
export class DependencyUnavailableError extends CustomerSyncError {
  readonly dependency: Dependency;
  constructor(dependency: Dependency, waitedMs: number, reason: string) {
    super(
      'start_up.dependency_unavailable',
      `${describeDependency(dependency)} was not reachable within ${formatSeconds(waitedMs)}: ${reason}`,
      { canRetry: false },
    );
    this.dependency = dependency;
  }
}

/** A configuration that waiting cannot fix: exit 78 (EX_CONFIG), like any configuration error. */
export class DependencyMisconfiguredError extends CustomerSyncError {
  readonly dependency: Dependency;
  readonly variable: string;
  constructor(dependency: Dependency, reason: string, variable: string, fix?: string) {
    super(
      'start_up.dependency_misconfigured',
      // fix '': the reason already says what to change
      `${describeDependency(dependency)}: ${reason}${fix === '' ? '' : `; ${fix ?? `check ${variable}`}`}`,
      { canRetry: false },
    );
    this.dependency = dependency;
    this.variable = variable;
  }
}

export interface WaitOptions {
  backoff: BackoffSettings;
  /** epoch ms after which start-up gives up; undefined waits for ever */
  deadline: number | undefined;
  /**
   * an attempt that has not settled by then counts as unreachable; undefined: the attempt is
   * bounded by its own client's timeouts only (work that may rightly take long)
   */
  attemptTimeoutMs: number | undefined;
  /** undefined: not a connection failure (a bug, a failed statement): thrown as it is */
  classify(error: unknown): ConnectFailure | undefined;
  onWaiting(report: WaitingReport): void;
  onAvailable?(dependency: Dependency, waitedMs: number): void;
  /** a stop requested during start-up ends the wait at once */
  signal?: AbortSignal | undefined;
  /** how long a name may fail to resolve before it counts as a typo (default 60 s) */
  nameResolutionGraceMs?: number;
  /** at most one report per this many ms (default 10 s) */
  reportIntervalMs?: number;
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const NAME_RESOLUTION_GRACE_MS = 60_000;
const REPORT_INTERVAL_MS = 10_000;
const LAST_ATTEMPT_MIN_MS = 1_000;

/**
 * Runs `attempt` until it succeeds, waiting between failed attempts with the one retry policy
 * (exponential backoff, full jitter), and reporting the wait at most once per report interval.
 */
export async function waitForDependency<T>(
  dependency: Dependency,
  attempt: (signal: AbortSignal) => Promise<T>,
  options: WaitOptions,
): Promise<T> {
  const now = options.now ?? Date.now;
  const pause = options.sleep ?? sleep;
  const graceMs = options.nameResolutionGraceMs ?? NAME_RESOLUTION_GRACE_MS;
  const reportIntervalMs = options.reportIntervalMs ?? REPORT_INTERVAL_MS;
  const started = now();
  let failures = 0;
  let unresolvedSince: number | undefined;
  let lastReportAt: number | undefined;
  let attemptsSinceReport = 0;

  for (;;) {
    throwIfStopRequested(options.signal);
    const remaining = options.deadline === undefined ? Infinity : options.deadline - now();
    let failure: ConnectFailure;
    try {
      const result =
        options.attemptTimeoutMs === undefined
          ? await attempt(new AbortController().signal)
          : await withDeadline(
              attempt,
              // The attempt at the deadline still gets a fair chance to answer.
              Math.min(options.attemptTimeoutMs, Math.max(LAST_ATTEMPT_MIN_MS, remaining)),
            );
      if (failures > 0) options.onAvailable?.(dependency, now() - started);
      return result;
    } catch (error) {
      throwIfStopRequested(options.signal);
      const classified = isTimedOut(error)
        ? { kind: 'unreachable' as const, reason: 'no answer (the attempt timed out)' }
        : options.classify(error);
      if (classified === undefined) throw error;
      failure = classified;
    }

    if (failure.kind === 'misconfigured')
      throw new DependencyMisconfiguredError(
        dependency,
        failure.reason,
        failure.variable,
        failure.fix,
      );
    const at = now();
    if (failure.kind === 'unresolved-name') {
      unresolvedSince ??= at;
      if (at - unresolvedSince >= graceMs)
        throw new DependencyMisconfiguredError(
          dependency,
          `${failure.reason} (for ${formatSeconds(at - unresolvedSince)})`,
          dependency.variable,
        );
    } else {
      unresolvedSince = undefined;
    }
    if (options.deadline !== undefined && at >= options.deadline) {
      // A name that never resolved during the whole wait is most likely a typo.
      if (failure.kind === 'unresolved-name')
        throw new DependencyMisconfiguredError(dependency, failure.reason, dependency.variable);
      throw new DependencyUnavailableError(dependency, at - started, failure.reason);
    }

    const delay = Math.min(
      backoffDelayMs(failures, options.backoff, options.random),
      options.deadline === undefined ? Infinity : Math.max(1, options.deadline - at),
    );
    failures += 1;
    attemptsSinceReport += 1;
    if (lastReportAt === undefined || at - lastReportAt >= reportIntervalMs) {
      options.onWaiting({
        dependency,
        since: new Date(started),
        attempts: attemptsSinceReport,
        reason: failure.reason,
        nextAttemptInMs: delay,
        givesUpAt: options.deadline === undefined ? undefined : new Date(options.deadline),
      });
      lastReportAt = at;
      attemptsSinceReport = 0;
    }
    await pause(delay, options.signal);
  }
}

/** `PostgreSQL at db:5432 (DATABASE_URL)` */
export function describeDependency(dependency: Dependency): string {
  return `${dependency.name} at ${dependency.address} (${dependency.variable})`;
}

/** The socket-level part of a connection failure, shared by the Postgres and Kafka clients. */
export function classifySocketFailure(
  code: string | undefined,
  tlsVariable: string,
): ConnectFailure | undefined {
  if (code === undefined) return undefined;
  if (code === 'ENOTFOUND')
    return { kind: 'unresolved-name', reason: 'the host name does not resolve (ENOTFOUND)' };
  if (UNREACHABLE_CODES.has(code)) return { kind: 'unreachable', reason: describeCode(code) };
  if (TLS_FAILURE.test(code))
    return { kind: 'misconfigured', reason: `TLS failed (${code})`, variable: tlsVariable };
  return undefined;
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EPIPE',
  // a resolver that cannot be asked right now, unlike a name it says does not exist
  'EAI_AGAIN',
]);

/** Certificate verification, host name mismatch, or TLS spoken to a plain-text port. */
const TLS_FAILURE =
  /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|^ERR_TLS_|^ERR_SSL_|^EPROTO$/;

function describeCode(code: string): string {
  const meaning: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    ETIMEDOUT: 'connection timed out',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    EAI_AGAIN: 'the name server did not answer',
  };
  return `${meaning[code] ?? 'connection failed'} (${code})`;
}

function isTimedOut(error: unknown): boolean {
  return error instanceof CustomerSyncError && error.code === ATTEMPT_TIMED_OUT;
}

function throwIfStopRequested(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new CustomerSyncError('service.start_aborted', 'a stop was requested during start-up', {
      canRetry: false,
    });
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
