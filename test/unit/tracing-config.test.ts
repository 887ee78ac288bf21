import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';

const BASE = { KAFKA_BROKERS: 'localhost:9092', DATABASE_URL: 'postgres://u@localhost/db' };

function tracingOf(env: Record<string, string>) {
  const result = loadConfig({ ...BASE, ...env });
  assert.ok(result.ok, result.ok ? '' : result.problems.join('; '));
  return result.config.tracing;
}

describe('tracing configuration (the standard OTEL_* variables)', () => {
  it('is off without an OTLP endpoint', () => {
    assert.equal(tracingOf({}), undefined);
    assert.equal(
      tracingOf({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' }),
      undefined,
    );
  });

  it('sends to <endpoint>/v1/traces, or to the traces endpoint as it is', () => {
    assert.equal(
      tracingOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })?.tracesUrl,
      'http://collector:4318/v1/traces',
    );
    assert.equal(
      tracingOf({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.internal/ingest',
      })?.tracesUrl,
      'https://traces.internal/ingest',
    );
  });

  it('stays off when the SDK is disabled or the traces exporter is none', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    assert.equal(tracingOf({ ...endpoint, OTEL_SDK_DISABLED: 'true' }), undefined);
    assert.equal(tracingOf({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }), undefined);
  });

  it('takes the sampler, its ratio and the export delay, with the specification defaults', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    assert.deepEqual(tracingOf(endpoint), {
      tracesUrl: 'http://collector:4318/v1/traces',
      serviceName: 'customer-sync',
      sampler: 'parentbased_always_on',
      samplerRatio: 1,
      scheduleDelayMs: 5000,
    });
    const tuned = tracingOf({
      ...endpoint,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.01',
      OTEL_BSP_SCHEDULE_DELAY: '250',
    });
    assert.deepEqual(
      [tuned?.sampler, tuned?.samplerRatio, tuned?.scheduleDelayMs],
      ['parentbased_traceidratio', 0.01, 250],
    );
  });

  it('names the variable of a protocol, sampler or ratio it cannot honour', () => {
    const result = loadConfig({
      ...BASE,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_TRACES_SAMPLER: 'sometimes',
      OTEL_TRACES_SAMPLER_ARG: '2',
    });
    assert.equal(result.ok, false);
    const problems = result.ok ? [] : result.problems;
    assert.ok(
      problems.some((line) => line.startsWith('OTEL_EXPORTER_OTLP_PROTOCOL must be http/json')),
    );
    assert.ok(problems.some((line) => line.startsWith('OTEL_TRACES_SAMPLER must be one of')));
    assert.ok(problems.some((line) => line.startsWith('OTEL_TRACES_SAMPLER_ARG must be a ratio')));
  });

  it('reads the liveness thresholds', () => {
    const result = loadConfig({ ...BASE, LIVENESS_PROGRESS_TIMEOUT_MS: '60000' });
    assert.ok(result.ok);
    assert.deepEqual(result.config.liveness, {
      progressTimeoutMs: 60_000,
      eventLoopBlockedMs: 5_000,
      lagSampleIntervalMs: 10_000,
    });
  });
});
