/**
 * The metric names that the alert rules, the dashboard and the README use are the ones the
 * service registers (src/observability/metrics.ts): a rename must change all of them
 * together. Also the dashboard's shape (importable, one data-source variable) and its
 * provisioning in docker-compose.yml.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { createMetrics } from '../../src/observability/metrics.ts';

const text = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/**
 * Metrics that other parts of the system register: `customer_sync_parked_records` (undeliverable
 * outgoing records, SPEC §4.4) comes with the parking of such records; `up` is Prometheus' own.
 */
const REGISTERED_ELSEWHERE = new Set(['customer_sync_parked_records', 'up']);

async function registeredSeries(): Promise<Set<string>> {
  const metrics = await createMetrics().registry.getMetricsAsJSON();
  return new Set(
    metrics.flatMap(({ name, type }) =>
      String(type) === 'histogram'
        ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`]
        : [name],
    ),
  );
}

/** Metric names in a PromQL expression: identifiers followed by a selector or range. */
function metricNamesIn(expr: string): string[] {
  const names = expr.match(/\b(?:customer_sync|process|nodejs)_[a-z0-9_]+\b/g) ?? [];
  return [...new Set(names)];
}

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: Array<{ expr: string; refId: string; datasource?: { uid: string } }>;
}
const dashboard = JSON.parse(text('deploy/grafana/dashboards/customer-sync.json')) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: string }> };
};
/** Grafana's reference to the dashboard's data-source variable, as the panels write it. */
const DATASOURCE_VARIABLE = '$' + '{datasource}';
const dashboardQueries = dashboard.panels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => target.expr),
);

const alertRules = (
  parse(text('deploy/prometheus/alerts.yml')) as {
    groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
  }
).groups.flatMap(({ rules }) => rules);

describe('metric names across the service, the alerts, the dashboard and the README', () => {
  it('keeps Node default metrics under their standard names, without a prefix', async () => {
    const series = await registeredSeries();
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ])
      assert.ok(series.has(name), name);
    assert.ok(![...series].some((name) => name.startsWith('customer_sync_process_')));
  });

  it('names the running version in customer_sync_build_info', async () => {
    const output = await createMetrics().registry.metrics();
    assert.match(output, /^customer_sync_build_info\{version="\d+\.\d+\.\d+"\} 1$/m);
  });

  it('gives every metric of the service a unit suffix or _total, or says why it has none', async () => {
    const unitless = new Set([
      'customer_sync_build_info', // an info metric: always 1
      'customer_sync_live', // 1 or 0
      'customer_sync_outbox_relay_leader', // 1 or 0
      'customer_sync_enrichment_breaker_state', // an enumeration: 0 closed, 1 half-open, 2 open
    ]);
    const metrics = await createMetrics().registry.getMetricsAsJSON();
    for (const { name } of metrics.filter(({ name }) => name.startsWith('customer_sync_'))) {
      if (unitless.has(name)) continue;
      assert.match(
        name,
        /_(seconds|messages|events|jobs|shards|total)$/,
        `${name} has a unit suffix`,
      );
    }
  });

  it('alerts on registered metrics only', async () => {
    const series = await registeredSeries();
    for (const { alert, expr } of alertRules)
      for (const name of metricNamesIn(expr))
        assert.ok(series.has(name) || REGISTERED_ELSEWHERE.has(name), `${alert}: ${name}`);
  });

  it('charts registered metrics only', async () => {
    const series = await registeredSeries();
    for (const expr of dashboardQueries)
      for (const name of metricNamesIn(expr))
        assert.ok(series.has(name) || REGISTERED_ELSEWHERE.has(name), `${name} in ${expr}`);
  });

  it('lists every metric of the service in the README metrics table', async () => {
    const readme = text('README.md');
    const metrics = await createMetrics().registry.getMetricsAsJSON();
    for (const { name } of metrics.filter(({ name }) => name.startsWith('customer_sync_')))
      assert.ok(readme.includes(`| \`${name}`), `the README metrics table has a row for ${name}`);
  });
});

describe('the Grafana dashboard (deploy/grafana/dashboards/customer-sync.json)', () => {
  it('is importable: a uid, unique panel ids, every query through the data-source variable', () => {
    assert.equal(dashboard.uid, 'customer-sync');
    const ids = dashboard.panels.map(({ id }) => id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    assert.deepEqual(
      dashboard.templating.list.find(({ name }) => name === 'datasource'),
      dashboard.templating.list.find(({ type }) => type === 'datasource'),
    );
    for (const panel of dashboard.panels.filter(({ type }) => type !== 'row')) {
      assert.ok((panel.targets ?? []).length > 0, `${panel.title} has a query`);
      assert.equal(panel.datasource?.uid, DATASOURCE_VARIABLE, `${panel.title} uses the variable`);
      for (const target of panel.targets ?? [])
        assert.equal(target.datasource?.uid, DATASOURCE_VARIABLE);
      assert.ok(panel.gridPos.x + panel.gridPos.w <= 24, `${panel.title} fits the grid`);
    }
  });

  it('shows throughput by outcome, latency, lag, dead letters, outbox, enrichment, retries and liveness', () => {
    for (const metric of [
      'customer_sync_events_total',
      'customer_sync_processing_latency_seconds_bucket',
      'customer_sync_consumer_lag_messages',
      'customer_sync_consumer_lag_seconds',
      'customer_sync_dead_letters_total',
      'customer_sync_outbox_backlog_events',
      'customer_sync_outbox_oldest_age_seconds',
      'customer_sync_enrichment_queue_jobs',
      'customer_sync_retries_total',
      'customer_sync_live',
    ])
      assert.ok(
        dashboardQueries.some((expr) => expr.includes(metric)),
        `a panel charts ${metric}`,
      );
  });

  it('is provisioned in docker-compose.yml with a Prometheus that scrapes the service', () => {
    const compose = parse(text('docker-compose.yml'), { merge: true }) as {
      services: Record<string, { volumes?: string[]; environment?: Record<string, string> }>;
    };
    const grafanaVolumes = compose.services.grafana?.volumes ?? [];
    assert.ok(
      grafanaVolumes.includes('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro'),
    );
    assert.ok(
      grafanaVolumes.includes('./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro'),
    );
    const provider = parse(text('deploy/grafana/provisioning/dashboards/dashboards.yml')) as {
      providers: Array<{ options: { path: string } }>;
    };
    assert.equal(provider.providers[0]?.options.path, '/var/lib/grafana/dashboards');
    const datasource = parse(text('deploy/grafana/provisioning/datasources/prometheus.yml')) as {
      datasources: Array<{ type: string; url: string }>;
    };
    assert.equal(datasource.datasources[0]?.type, 'prometheus');
    assert.equal(new URL(datasource.datasources[0]?.url ?? '').hostname, 'prometheus');

    assert.ok(
      (compose.services.prometheus?.volumes ?? []).includes(
        './deploy/prometheus:/etc/prometheus:ro',
      ),
    );
    const scrape = parse(text('deploy/prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }>;
    };
    const port = compose.services['customer-sync']?.environment?.HTTP_PORT;
    assert.deepEqual(scrape.scrape_configs[0]?.static_configs[0]?.targets, [
      `customer-sync:${port}`,
    ]);
    assert.deepEqual(scrape.rule_files, ['alerts.yml']);
  });
});
