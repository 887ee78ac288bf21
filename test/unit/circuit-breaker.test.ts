import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type BreakerSettings,
  type BreakerState,
  createCircuitBreaker,
  createTenantCircuitBreakers,
} from '../../src/application/circuit-breaker.ts';

const settings: BreakerSettings = {
  failureRateThreshold: 0.5,
  minimumCalls: 4,
  windowSize: 4,
  openDurationMs: 1_000,
};

function aBreaker() {
  let time = 0;
  const transitions: Array<[BreakerState, BreakerState]> = [];
  const breaker = createCircuitBreaker(
    settings,
    () => time,
    (from, to) => transitions.push([from, to]),
  );
  return {
    breaker,
    transitions,
    advance(ms: number) {
      time += ms;
    },
  };
}

describe('circuit breaker (SPEC §6)', () => {
  it('stays closed below the minimum number of calls, whatever they did', () => {
    const { breaker } = aBreaker();
    for (let i = 0; i < 3; i++) breaker.recordFailure();
    assert.equal(breaker.state(), 'closed');
    assert.ok(breaker.tryAcquire());
  });

  it('opens when the failure rate in the window reaches the threshold', () => {
    const { breaker, transitions } = aBreaker();
    breaker.recordSuccess();
    breaker.recordFailure();
    breaker.recordSuccess();
    breaker.recordFailure();
    assert.equal(breaker.state(), 'open');
    assert.equal(breaker.tryAcquire(), false);
    assert.equal(breaker.acceptsCalls(), false);
    assert.equal(breaker.retryInMs(), 1_000);
    assert.deepEqual(transitions, [['closed', 'open']]);
  });

  it('judges only the latest calls of the window', () => {
    const { breaker } = aBreaker();
    breaker.recordFailure();
    for (let i = 0; i < 4; i++) breaker.recordSuccess();
    breaker.recordFailure(); // window: S S S F
    assert.equal(breaker.state(), 'closed');
  });

  it('lets one trial through once the open time is over, and closes when it succeeds', () => {
    const { breaker, transitions, advance } = aBreaker();
    for (let i = 0; i < 4; i++) breaker.recordFailure();
    advance(1_000);
    assert.equal(breaker.state(), 'half-open');
    assert.ok(breaker.acceptsCalls());
    assert.ok(breaker.tryAcquire(), 'the trial');
    assert.equal(breaker.tryAcquire(), false, 'only one trial at a time');
    assert.equal(breaker.acceptsCalls(), false);
    breaker.recordSuccess();
    assert.equal(breaker.state(), 'closed');
    assert.deepEqual(transitions, [
      ['closed', 'open'],
      ['open', 'half-open'],
      ['half-open', 'closed'],
    ]);
    // A fresh window: one failure after closing does not reopen it.
    breaker.recordFailure();
    assert.equal(breaker.state(), 'closed');
  });

  it('opens again for another full period when the trial fails', () => {
    const { breaker, advance } = aBreaker();
    for (let i = 0; i < 4; i++) breaker.recordFailure();
    advance(1_500);
    assert.ok(breaker.tryAcquire());
    breaker.recordFailure();
    assert.equal(breaker.state(), 'open');
    assert.equal(breaker.retryInMs(), 1_000);
  });

  it('frees the trial slot when the trial is abandoned without an answer', () => {
    const { breaker, advance } = aBreaker();
    for (let i = 0; i < 4; i++) breaker.recordFailure();
    advance(1_000);
    assert.ok(breaker.tryAcquire());
    breaker.abandon();
    assert.ok(breaker.tryAcquire());
  });

  it('ignores answers of calls that were already under way when it opened', () => {
    const { breaker } = aBreaker();
    for (let i = 0; i < 4; i++) breaker.recordFailure();
    breaker.recordSuccess();
    assert.equal(breaker.state(), 'open');
  });

  it('stays open as long as a 429 asks, from any state', () => {
    const { breaker, advance } = aBreaker();
    breaker.recordRateLimited(5_000);
    assert.equal(breaker.state(), 'open');
    advance(4_999);
    assert.equal(breaker.tryAcquire(), false);
    advance(1);
    assert.ok(breaker.tryAcquire());
  });

  it('keeps one breaker per tenant and lists the tenants that take no calls', () => {
    let time = 0;
    const seen: string[] = [];
    const breakers = createTenantCircuitBreakers(
      settings,
      () => time,
      (tenant, _from, to) => seen.push(`${tenant}:${to}`),
    );
    for (let i = 0; i < 4; i++) breakers.forTenant('a').recordFailure();
    breakers.forTenant('b').recordSuccess();
    assert.deepEqual(breakers.blockedTenants(), ['a']);
    time = 1_000;
    assert.deepEqual(breakers.blockedTenants(), []);
    assert.ok(breakers.forTenant('a').tryAcquire());
    assert.deepEqual(breakers.blockedTenants(), ['a']);
    assert.deepEqual(seen, ['a:open', 'a:half-open']);
  });
});
