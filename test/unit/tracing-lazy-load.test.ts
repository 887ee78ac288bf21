/**
 * Tracing off costs nothing: the service's modules do not import the OpenTelemetry SDK (the
 * API package, which prom-client loads for its exemplars, is not the SDK), and
 * loadTracing loads it only when the configuration enables tracing. Checked in a fresh
 * process, with a resolve hook that records every module Node loads.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const SCRIPT = `
import { registerHooks } from 'node:module';
const openTelemetry = new Set();
registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context);
    // @opentelemetry/api is not the SDK: prom-client loads it anyway (for exemplars).
    const { url } = resolved;
    if (url.includes('/node_modules/@opentelemetry/') && !url.includes('/@opentelemetry/api/'))
      openTelemetry.add(url);
    return resolved;
  },
});
await import('./src/main.ts');
const { loadTracing } = await import('./src/observability/load-tracing.ts');
const off = await loadTracing({});
const whenOff = openTelemetry.size;
const on = await loadTracing({ tracing: { tracesUrl: 'http://127.0.0.1:9/v1/traces', serviceName: 't',
  sampler: 'always_off', samplerRatio: 1, scheduleDelayMs: 1000 } });
await on?.shutdown();
console.log(JSON.stringify({ off: off === undefined, whenOff, whenOn: openTelemetry.size }));
`;

describe('tracing off (the default)', () => {
  it('never loads the OpenTelemetry SDK; enabling it does', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', SCRIPT],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '' } },
    );
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
      off: boolean;
      whenOff: number;
      whenOn: number;
    };
    assert.equal(result.off, true, 'loadTracing gives no Tracing without an endpoint');
    assert.equal(result.whenOff, 0, 'no OpenTelemetry SDK module was loaded with tracing off');
    assert.ok(result.whenOn > 0, 'the hook sees the SDK once tracing is enabled');
  });
});
