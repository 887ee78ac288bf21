/**
 * A circuit breaker per tenant's lending system (SPEC §6: enrichment retries "behind a circuit
 * breaker"). While a lending system fails most calls, further calls only add load to a system
 * that is down and hold jobs that could wait; so after enough failures the breaker opens, lets
 * no call through for a while, then lets one trial call through (half-open) and closes again
 * only when that trial succeeds. Pure: time comes from the clock it is given.
 *
 * Not cockatiel's circuitBreaker, which answers only by running a call: the worker asks before
 * it claims which tenants take no calls and how long an open breaker has left, and a job that
 * finds the trial taken is handed back, where cockatiel's half-open makes it wait. A 429 opens
 * the breaker at once for its Retry-After, whatever the window says; the README's "at least"
 * the failure rate opens it, 100% included (cockatiel: "more than", below 100%); and a trial
 * cut short by shutdown decides nothing (cockatiel counts it as a success or a failure).
 */

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerSettings {
  /** share of failed calls in the window, 0..1, at or above which the breaker opens */
  failureRateThreshold: number;
  /** calls the window must hold before the rate counts, so one early failure does not open it */
  minimumCalls: number;
  /** how many of the latest calls the failure rate is taken over */
  windowSize: number;
  /** how long an open breaker refuses calls before it lets a trial through */
  openDurationMs: number;
}

export interface CircuitBreaker {
  state(): BreakerState;
  /**
   * Whether a call may go out now; in half-open only one trial at a time. A caller that was
   * let through must end with recordSuccess, recordFailure, recordRateLimited or abandon.
   */
  tryAcquire(): boolean;
  /** whether tryAcquire would let a call through now, without taking the trial slot */
  acceptsCalls(): boolean;
  /** milliseconds until an open breaker lets a trial through (0 when not open) */
  retryInMs(): number;
  /** the lending system answered (2xx, 404, or any answer that says it is up) */
  recordSuccess(): void;
  /** the lending system did not answer usefully: timeout, connection failure, 5xx */
  recordFailure(): void;
  /** 429: a failure that also names how long to stay away; the breaker stays open that long */
  recordRateLimited(retryAfterMs: number): void;
  /** the call ended without an answer to judge (shutdown, a local problem) */
  abandon(): void;
}

export function createCircuitBreaker(
  settings: BreakerSettings,
  now: () => number,
  onTransition: (from: BreakerState, to: BreakerState) => void = () => {},
): CircuitBreaker {
  let current: BreakerState = 'closed';
  let outcomes: boolean[] = []; // true = failure, latest last
  let openUntil = 0;
  let trialInFlight = false;

  function moveTo(next: BreakerState) {
    if (next === current) return;
    const from = current;
    current = next;
    if (next !== 'open') trialInFlight = false;
    if (next === 'closed') outcomes = [];
    onTransition(from, next);
  }

  function open(untilMs: number) {
    openUntil = Math.max(openUntil, untilMs);
    trialInFlight = false;
    moveTo('open');
  }

  function refresh() {
    if (current === 'open' && now() >= openUntil) moveTo('half-open');
  }

  function record(failed: boolean) {
    if (current === 'half-open') {
      trialInFlight = false;
      if (failed) open(now() + settings.openDurationMs);
      else moveTo('closed');
      return;
    }
    // A straggler from before the breaker opened says nothing new: the breaker already acted.
    if (current === 'open') return;
    outcomes.push(failed);
    if (outcomes.length > settings.windowSize) outcomes.shift();
    const failures = outcomes.filter(Boolean).length;
    if (
      outcomes.length >= settings.minimumCalls &&
      failures / outcomes.length >= settings.failureRateThreshold
    ) {
      open(now() + settings.openDurationMs);
    }
  }

  return {
    state() {
      refresh();
      return current;
    },
    tryAcquire() {
      refresh();
      if (current === 'closed') return true;
      if (current === 'open' || trialInFlight) return false;
      trialInFlight = true;
      return true;
    },
    acceptsCalls() {
      refresh();
      return current === 'closed' || (current === 'half-open' && !trialInFlight);
    },
    retryInMs() {
      refresh();
      if (current === 'open') return Math.max(0, openUntil - now());
      return 0;
    },
    recordSuccess: () => record(false),
    recordFailure: () => record(true),
    recordRateLimited(retryAfterMs) {
      if (current === 'half-open') trialInFlight = false;
      open(now() + Math.max(retryAfterMs, 0));
    },
    abandon() {
      if (current === 'half-open') trialInFlight = false;
    },
  };
}

/** One breaker per tenant, created on first use; transitions are reported with the tenant. */
export function createTenantCircuitBreakers(
  settings: BreakerSettings,
  now: () => number,
  onTransition: (tenantId: string, from: BreakerState, to: BreakerState) => void = () => {},
) {
  const breakers = new Map<string, CircuitBreaker>();
  return {
    forTenant(tenantId: string): CircuitBreaker {
      let breaker = breakers.get(tenantId);
      if (breaker === undefined) {
        breaker = createCircuitBreaker(settings, now, (from, to) =>
          onTransition(tenantId, from, to),
        );
        breakers.set(tenantId, breaker);
      }
      return breaker;
    },
    /** tenants no call may go to right now: open, or half-open with the trial in flight */
    blockedTenants(): string[] {
      return [...breakers.entries()]
        .filter(([, breaker]) => !breaker.acceptsCalls())
        .map(([tenantId]) => tenantId);
    },
  };
}
