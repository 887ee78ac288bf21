/**
 * The Grafana dashboard (deploy/grafana/dashboards/customer-sync.json) against real data: a
 * real Prometheus (Debian's package, installed when missing) scrapes the real service while
 * it handles traffic of every kind the panels show (applied, duplicate and enrichment
 * requests, poison, a tenant whose lending system is down), and every query of every panel
 * must return a finite value.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { findFreePort } from '../../dev/free-port.ts';
import { connectDatabase } from '../../src/persistence/database.ts';
import { createTenantRepository } from '../../src/persistence/tenant-repository.ts';
import { registerCleanup } from '../support/cleanup.ts';
import { ensureDebianTool } from '../support/debian-tool.ts';
import { startTestLendingSimulator } from '../support/lending-simulator-fixture.ts';
import { startPipelineFixture } from '../support/pipeline-fixture.ts';
import type { ServiceProcess } from '../support/service-process.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';
import { waitFor } from '../support/wait-for.ts';

interface Panel {
  title: string;
  type: string;
  targets?: Array<{ expr: string; refId: string }>;
}

/** Grafana's range variable, as it resolves for a 1 s scrape interval. */
const RATE_INTERVAL = '15s';

async function startPrometheus(scrapeTarget: string): Promise<string> {
  const prometheus = await ensureDebianTool('prometheus', 'prometheus');
  const dir = await mkdtemp(join(tmpdir(), 'customer-sync-prometheus-'));
  const port = await findFreePort();
  await writeFile(
    join(dir, 'prometheus.yml'),
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      '  - job_name: customer-sync',
      `    static_configs: [{ targets: ["${scrapeTarget}"] }]`,
      '',
    ].join('\n'),
  );
  const child = spawn(
    prometheus,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-4_000);
  });
  registerCleanup(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`Prometheus to be ready (log: ${log})`, async () => {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${log}`);
    return (await fetch(`${url}/-/ready`)).ok;
  });
  return url;
}

interface QueryAnswer {
  status: string;
  data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  error?: string;
}

async function query(prometheus: string, expr: string): Promise<QueryAnswer> {
  const response = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await response.json()) as QueryAnswer;
}

const finiteValues = (answer: QueryAnswer) =>
  (answer.data?.result ?? []).filter(({ value }) => Number.isFinite(Number(value[1])));

/** Mixed traffic every half second until stopped: what each panel needs to show something. */
function keepPublishing(fixture: Awaited<ReturnType<typeof startPipelineFixture>>) {
  let running = true;
  let round = 0;
  const done = (async () => {
    while (running && round < 400) {
      round++;
      const requests = Array.from({ length: 20 }, (_, index) =>
        anUpdateRequest()
          .withExternalId(`customer-${round}-${index}`)
          .withData({ taskType: 'collections', firstName: `Name${index}`, enrich: index === 0 })
          .build(),
      );
      const enrichDown = anUpdateRequest()
        .withTenant('tenant-b')
        .withExternalId(`down-${round}`)
        .withData({ taskType: 'collections', enrich: true })
        .build();
      await fixture.publish([...requests, requests[1] as (typeof requests)[number], enrichDown]);
      await fixture.publishRaw([{ key: 'tenant-a:poison', value: '{not json' }]);
      await delay(500);
    }
  })();
  return async () => {
    running = false;
    await done;
  };
}

describe('the Grafana dashboard, against a real Prometheus scraping the running service', () => {
  it('has data for every query of every panel', async () => {
    const lending = await startTestLendingSimulator();
    const fixture = await startPipelineFixture({ partitions: 3 });
    // tenant-b's lending system is down: its breaker opens, its jobs retry. It has a token of its
    // own, as a tenant with its own lending system must (else its jobs fail as not configured).
    const connection = connectDatabase(fixture.databaseUrl, { poolMax: 1 });
    await createTenantRepository(connection.db).save({
      tenantId: 'tenant-b',
      taskTypes: ['collections'],
      lendingApiUrl: 'http://127.0.0.1:9',
    });
    await connection.close();
    const service: ServiceProcess = await fixture
      .newService({
        LENDING_API_URL: lending.url,
        LENDING_API_TOKENS: JSON.stringify({ 'tenant-b': 'tenant-b-token' }),
        CONSUMER_LAG_SAMPLE_INTERVAL_MS: '500',
        ENRICHMENT_POLL_INTERVAL_MS: '100',
        ENRICHMENT_RETRY_INITIAL_DELAY_MS: '50',
        ENRICHMENT_RETRY_MAX_DELAY_MS: '200',
        ENRICHMENT_BREAKER_MINIMUM_CALLS: '2',
        ENRICHMENT_BREAKER_WINDOW_CALLS: '2',
        ENRICHMENT_BREAKER_OPEN_MS: '60000',
      })
      .start();
    const running = await waitFor('the service to log its HTTP port', () =>
      service.logs.find((line) => line.msg === 'customer-sync is running'),
    );
    const prometheus = await startPrometheus(`127.0.0.1:${String(running.httpPort)}`);
    const stopPublishing = keepPublishing(fixture);

    const dashboard = JSON.parse(
      await readFile(
        new URL('../../deploy/grafana/dashboards/customer-sync.json', import.meta.url),
        'utf8',
      ),
    ) as { panels: Panel[] };
    const queries = dashboard.panels.flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({
        panel: panel.title,
        expr: target.expr.replaceAll('$__rate_interval', RATE_INTERVAL),
      })),
    );
    assert.ok(queries.length >= 30, `the dashboard has its queries (${queries.length})`);

    const answered = new Set<string>();
    const last = new Map<string, unknown>();
    try {
      await waitFor(
        'every panel query to return data',
        async () => {
          for (const { panel, expr } of queries) {
            if (answered.has(expr)) continue;
            const answer = await query(prometheus, expr);
            assert.equal(answer.status, 'success', `${panel}: ${expr}: ${answer.error}`);
            last.set(expr, answer.data?.result);
            if (finiteValues(answer).length > 0) answered.add(expr);
          }
          return queries.every(({ expr }) => answered.has(expr));
        },
        { timeoutMs: 120_000, intervalMs: 1_000 },
      );
    } catch (error) {
      const missing = queries
        .filter(({ expr }) => !answered.has(expr))
        .map(({ panel, expr }) => `${panel}: ${expr} -> ${JSON.stringify(last.get(expr))}`);
      throw new Error(`${(error as Error).message}; without data:\n${missing.join('\n')}`);
    } finally {
      await stopPublishing();
    }

    // The traffic shows where it should.
    const value = async (expr: string) =>
      Number(finiteValues(await query(prometheus, expr))[0]?.value[1] ?? Number.NaN);
    assert.ok((await value('sum(customer_sync_events_total{outcome="applied"})')) > 0);
    assert.ok((await value('sum(customer_sync_events_total{outcome="duplicate"})')) > 0);
    assert.ok((await value('sum(customer_sync_dead_letters_total{code="decode.malformed"})')) > 0);
    assert.equal(
      await value('max(customer_sync_enrichment_breaker_state{tenant="tenant-b"})'),
      2,
      'the breaker of the tenant whose lending system is down is open',
    );
    assert.equal(await value('sum(customer_sync_outbox_relay_leader)'), 1);
  });
});
