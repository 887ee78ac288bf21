import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelayMs } from '../../src/application/retry-policy.ts';

describe('the retry policy (SPEC §4.5)', () => {
  const settings = { initialDelayMs: 100, maxDelayMs: 5_000 };

  it('doubles the ceiling per attempt up to the maximum', () => {
    const ceiling = (attempt: number) => backoffDelayMs(attempt, settings, () => 1);
    assert.deepEqual(
      [0, 1, 2, 3, 6, 7, 50].map(ceiling),
      [100, 200, 400, 800, 5_000, 5_000, 5_000],
    );
  });

  it('spreads retries over the whole window (full jitter), never zero', () => {
    assert.equal(
      backoffDelayMs(3, settings, () => 0),
      1,
    );
    assert.equal(
      backoffDelayMs(3, settings, () => 0.5),
      400,
    );
  });
});
