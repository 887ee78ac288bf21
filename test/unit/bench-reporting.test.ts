import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderChart } from '../../bench/chart.ts';
import { latencyBySecond, percentile, summariseLatencies } from '../../bench/latency-statistics.ts';
import { type BenchResults, formatResultsTable, TARGETS, targetsMet } from '../../bench/results.ts';
import { imageRuntimeEnvironment } from '../../bench/service-child.ts';
import { generateWorkload, takeWorkload } from '../../bench/workload.ts';

describe('benchmark latency statistics', () => {
  it('takes the nearest-rank percentile: a latency some event really had', () => {
    const sorted = Array.from({ length: 100 }, (_, index) => index + 1);
    assert.equal(percentile(sorted, 50), 50);
    assert.equal(percentile(sorted, 95), 95);
    assert.equal(percentile(sorted, 99), 99);
    assert.equal(percentile(sorted, 100), 100);
    assert.equal(percentile([7], 99), 7);
    assert.equal(percentile([10, 20, 30], 50), 20);
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  it('summarises unsorted latencies', () => {
    const summary = summariseLatencies([30, 10, 20, 40]);
    assert.deepEqual(summary, { count: 4, p50: 20, p95: 40, p99: 40, max: 40, mean: 25 });
  });

  it('groups latencies by the second they were sent in', () => {
    const timeline = latencyBySecond([
      { sentAtMs: 100, latencyMs: 5 },
      { sentAtMs: 900, latencyMs: 15 },
      { sentAtMs: 2_100, latencyMs: 40 },
    ]);
    assert.deepEqual(timeline, [
      { second: 0, count: 2, p50: 5, p99: 15 },
      { second: 2, count: 1, p50: 40, p99: 40 },
    ]);
  });
});

describe('benchmark workload', () => {
  const options = {
    seed: 7,
    tenants: 3,
    customers: 50,
    duplicateShare: 0.1,
    outOfOrderShare: 0.1,
    invalidShare: 0.05,
  };

  it('is reproducible from its seed', () => {
    const first = takeWorkload(options, 200).map((message) => message.value.toString());
    const second = takeWorkload(options, 200).map((message) => message.value.toString());
    assert.deepEqual(first, second);
  });

  it('mixes updates with duplicates, late events and invalid messages', () => {
    const kinds = new Set(takeWorkload(options, 500).map((message) => message.kind));
    assert.deepEqual([...kinds].sort(), ['duplicate', 'invalid', 'late', 'update']);
  });

  it('keys every message <tenantId>:<externalId> of its event', () => {
    for (const message of takeWorkload(options, 300)) {
      if (message.kind === 'invalid') continue;
      const event = JSON.parse(message.value.toString()) as {
        tenantId: string;
        externalId: string;
      };
      assert.equal(message.key, `${event.tenantId}:${event.externalId}`);
    }
  });

  it('streams without end for the paced run', () => {
    const stream = generateWorkload(options);
    for (let index = 0; index < 1_000; index++) assert.equal(stream.next().done, false);
  });
});

describe('benchmark service settings', () => {
  it('runs the service with the runtime settings of its container image', () => {
    assert.deepEqual(
      imageRuntimeEnvironment(
        [
          'FROM node',
          'ENV NODE_ENV=production',
          'ENV NODE_OPTIONS="--max-old-space-size=512 --max-semi-space-size=8"',
          'ENV MALLOC_ARENA_MAX=2',
          'ENV PATH=/app/bin:$PATH',
        ].join('\n'),
      ),
      { NODE_OPTIONS: '--max-old-space-size=512 --max-semi-space-size=8', MALLOC_ARENA_MAX: '2' },
    );
    assert.deepEqual(imageRuntimeEnvironment('FROM node\n'), {});
    const image = imageRuntimeEnvironment();
    assert.match(image.NODE_OPTIONS ?? '', /--max-old-space-size=\d+/);
    assert.match(image.MALLOC_ARENA_MAX ?? '', /^\d+$/);
  });
});

describe('benchmark report', () => {
  const results = sampleResults();

  it('checks the SPEC §9 targets', () => {
    assert.deepEqual(results.met, {
      vsNaive: true,
      vsCeiling: false,
      p99: false,
      rss: false,
      serviceCpu: false,
      vsPeer: true,
    });
  });

  it('prints every figure the issue asks for', () => {
    const table = formatResultsTable(results);
    for (const expected of ['200 ev/s', '5,000 ev/s', '6,500 ev/s', '25.0x', '77%  >= 80% MISSED'])
      assert.ok(table.includes(expected), `${expected} in\n${table}`);
    assert.match(table, /p99 @ 1000 ev\/s\s+120\.0 ms\s+<= 50 ms MISSED/);
    assert.match(table, /peak RSS of the service\s+180 MiB\s+<= 160 MiB MISSED/);
    assert.match(table, /service CPU per event\s+210 µs\s+<= 60 µs MISSED/);
    assert.match(table, /debezium-jdbc-sink \(Kafka Connect\)\s+4,000 ev\/s/);
    assert.match(table, /customer-sync \/ debezium-jdbc-sink\s+1\.25x\s+>= 1\.2x ok/);
  });

  it('says where the CPU went, per event and process, and how busy the cores were', () => {
    const table = formatResultsTable(results);
    // ceiling: 1.7 s; 0.9 s of write path, 1.3 of Postgres, 0.1 + 0.1 others over 10,000 events
    assert.match(table, /database ceiling\s+0\s+90\s+130\s+10\s+0\s+10\s+240\s+1\.41 of 2 cores/);
    // service: 2 s; 2.1 s of service, 0.1 of polling, 1.4 of Postgres, 0.6 of the broker
    assert.match(
      table,
      /customer-sync, end to end\s+210\s+10\s+140\s+60\s+0\s+0\s+420\s+2\.10 of 2 cores/,
    );
    // the peer: 2.4 s over 2.5 s
    assert.match(table, /debezium-jdbc-sink\s+0\s+10\s+100\s+50\s+80\s+0\s+240\s+0\.96 of 2 cores/);
  });

  it('draws a well-formed SVG with the three panels', () => {
    const svg = renderChart(results);
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.ok(svg.trimEnd().endsWith('</svg>'));
    for (const title of ['Throughput (events/s)', 'Latency at 1000 events/s', 'resident memory'])
      assert.ok(svg.includes(title), title);
    assert.equal((svg.match(/<text/g) ?? []).length, (svg.match(/<\/text>/g) ?? []).length);
  });
});

function sampleResults(): BenchResults {
  const throughput = { naive: 200, service: 5_000, ceiling: 6_500, peer: 4_000 };
  const ratio = {
    vsNaive: throughput.service / throughput.naive,
    vsCeiling: throughput.service / throughput.ceiling,
    vsPeer: throughput.service / throughput.peer,
  };
  const latency = {
    p50: 40,
    p95: 90,
    p99: 120,
    max: 200,
    mean: 50,
    count: 1_000,
    offeredRate: 1_000,
    achievedRate: 998,
    warmupSeconds: 1,
    timeline: [
      { second: 0, count: 500, p50: 45, p99: 150 },
      { second: 1, count: 500, p50: 40, p99: 110 },
    ],
  };
  const phases: BenchResults['phases'] = {
    ceiling: {
      events: 10_000,
      seconds: 1.7,
      announced: 9_000,
      cpuSeconds: 0.9,
      machineCpu: { service: 0, bench: 0.9, postgres: 1.3, kafka: 0.1, peer: 0, other: 0.1 },
    },
    naive: { events: 2_000, seconds: 10 },
    service: {
      events: 10_000,
      seconds: 2,
      announced: 9_000,
      rssPeakMiB: 180,
      cpuSeconds: 2.1,
      machineCpu: { service: 2.1, bench: 0.1, postgres: 1.4, kafka: 0.6, peer: 0, other: 0 },
    },
    latency: { sent: 2_000, seconds: 3, rssPeakMiB: 170 },
    peer: {
      events: 10_000,
      seconds: 2.5,
      customers: 4_000,
      // 0.8 s of the Connect worker, 1.0 of Postgres, 0.5 of the broker
      machineCpu: { service: 0, bench: 0.1, postgres: 1, kafka: 0.5, peer: 0.8, other: 0 },
      settings: { 'insert.mode': 'upsert' },
    },
  };
  return {
    startedAt: '2026-01-05T09:00:00.000Z',
    durationSeconds: 60,
    command: 'npm run bench',
    events: 10_000,
    workload: {
      seed: 42,
      tenants: 20,
      customers: 20_000,
      duplicateShare: 0.03,
      outOfOrderShare: 0.05,
      invalidShare: 0.01,
      partitions: 6,
    },
    throughput,
    ratio,
    latency,
    rssPeakMiB: 180,
    phases,
    consistent: true,
    memory: {
      throughput: [
        { atMs: 0, rssMiB: 120 },
        { atMs: 1_000, rssMiB: 180 },
      ],
      latency: [{ atMs: 0, rssMiB: 130 }],
    },
    settings: { chunkSize: 500 },
    targets: TARGETS,
    met: targetsMet({ ratio, latency, rssPeakMiB: 180, phases }),
    machine: {
      cpus: 2,
      cpuModel: 'test cpu',
      memoryMiB: 4_096,
      node: '26.10.0',
      platform: 'linux x64',
      kafka: '4.1.1',
      postgres: '15.20',
      loadAverage: 0.5,
    },
  };
}
