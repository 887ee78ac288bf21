import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';

const MINIMAL = { KAFKA_BROKERS: 'localhost:9092', DATABASE_URL: 'postgres://app@db:5432/cs' };

describe('enrichment configuration (SPEC §6, §8)', () => {
  it('has defaults for the worker, the lending-system calls and the breaker', () => {
    const result = loadConfig(MINIMAL);
    assert.ok(result.ok);
    assert.deepEqual(result.config.enrichment, {
      concurrency: 4,
      pollIntervalMs: 1_000,
      leaseMs: 30_000,
      deadlineMs: 3_600_000,
      retry: { initialDelayMs: 1_000, maxDelayMs: 300_000 },
      breaker: {
        failureRateThreshold: 0.5,
        minimumCalls: 10,
        windowSize: 20,
        openDurationMs: 30_000,
      },
    });
    assert.equal(result.config.lendingApi.url, undefined);
    assert.deepEqual(result.config.lendingApi, {
      tenantTokens: new Map(),
      timeoutMs: 5_000,
      allowInsecureHttp: false,
    });
  });

  it('reads a default token and per-tenant tokens', () => {
    const result = loadConfig({
      ...MINIMAL,
      LENDING_API_URL: 'https://lending:8090',
      LENDING_API_TOKEN: 'default-token',
      LENDING_API_TOKENS: '{"tenant-a":"a-token"}',
      ENRICHMENT_CONCURRENCY: '0',
    });
    assert.ok(result.ok);
    assert.equal(result.config.lendingApi.url, 'https://lending:8090');
    assert.equal(result.config.lendingApi.defaultToken, 'default-token');
    assert.deepEqual(result.config.lendingApi.tenantTokens, new Map([['tenant-a', 'a-token']]));
    assert.equal(result.config.enrichment.concurrency, 0, '0 runs no worker in this replica');
  });

  it('names a bad token map without echoing it', () => {
    for (const tokens of ['{not json', '["a"]', '{"tenant-a":""}', '{"tenant-a":7}']) {
      const result = loadConfig({ ...MINIMAL, LENDING_API_TOKENS: tokens });
      assert.equal(result.ok, false);
      const problems = result.ok ? [] : result.problems;
      assert.deepEqual(problems, [
        'LENDING_API_TOKENS must be a JSON object of tenant id to non-empty token',
      ]);
    }
  });

  it('refuses settings that contradict each other', () => {
    const result = loadConfig({
      ...MINIMAL,
      ENRICHMENT_RETRY_INITIAL_DELAY_MS: '5000',
      ENRICHMENT_RETRY_MAX_DELAY_MS: '1000',
      ENRICHMENT_BREAKER_MINIMUM_CALLS: '30',
      ENRICHMENT_BREAKER_WINDOW_CALLS: '20',
    });
    assert.equal(result.ok, false);
    const problems = result.ok ? [] : result.problems;
    assert.ok(problems.some((line) => line.startsWith('ENRICHMENT_RETRY_MAX_DELAY_MS ')));
    assert.ok(problems.some((line) => line.startsWith('ENRICHMENT_BREAKER_MINIMUM_CALLS ')));
  });
});
