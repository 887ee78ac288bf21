import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_RETRY_AFTER_MS, parseRetryAfterMs } from '../../src/enrichment/retry-after.ts';

describe('Retry-After (RFC 9110 §10.2.3)', () => {
  const now = Date.parse('2026-03-01T10:00:00Z');

  it('reads delay-seconds', () => {
    assert.equal(parseRetryAfterMs('3', now), 3_000);
    assert.equal(parseRetryAfterMs(' 0 ', now), 0);
  });

  it('reads an HTTP-date as the time left until then, never negative', () => {
    assert.equal(parseRetryAfterMs('Sun, 01 Mar 2026 10:00:05 GMT', now), 5_000);
    assert.equal(parseRetryAfterMs('Sun, 01 Mar 2026 09:00:00 GMT', now), 0);
  });

  it('caps long waits at an hour', () => {
    assert.equal(parseRetryAfterMs('999999', now), MAX_RETRY_AFTER_MS);
  });

  it('ignores what it cannot read', () => {
    for (const header of [null, undefined, '', 'soon', '-1', '1.5', 'tomorrow GMT']) {
      assert.equal(parseRetryAfterMs(header, now), undefined, String(header));
    }
  });
});
