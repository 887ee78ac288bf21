import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeResultFiles } from '../../bench/result-files.ts';
import type { BenchResults } from '../../bench/results.ts';
import { runBenchmark } from '../../bench/run-benchmark.ts';
import { takeWorkload } from '../../bench/workload.ts';
import { readServerVersion } from '../../dev/databases.ts';
import { registerCleanup } from '../support/cleanup.ts';
import { testInfrastructure } from '../support/test-environment.ts';

// Behaviour only: the harness runs every phase end to end and reports every figure. How fast
// anything is, is for `npm run bench` to say, never for a test to assert.
const WORKLOAD = {
  seed: 3,
  tenants: 3,
  customers: 40,
  duplicateShare: 0.05,
  outOfOrderShare: 0.1,
  invalidShare: 0.05,
};

/** The customers the first `count` messages name, among those that are JSON at all. */
function distinctCustomersOf(count: number): number {
  const customers = new Set<string>();
  for (const message of takeWorkload(WORKLOAD, count)) {
    try {
      const event = JSON.parse(message.value.toString()) as {
        tenantId: string;
        externalId: string;
      };
      customers.add(`${event.tenantId}/${event.externalId}`);
    } catch {
      // bad JSON: the sink's converter skips it
    }
  }
  return customers.size;
}

describe('npm run bench, with tiny sizes', () => {
  it('runs every phase, the Debezium JDBC sink peer too, on real Kafka and Postgres and writes a results file with every key', async () => {
    const { kafkaBrokers, adminDatabaseUrl } = testInfrastructure();
    const out = await mkdtemp(join(tmpdir(), 'bench-results-'));
    registerCleanup(() => rm(out, { recursive: true, force: true }));

    const results = await runBenchmark(
      {
        events: 300,
        naiveEvents: 60,
        naivePrepared: false,
        naiveSeconds: 20,
        rate: 100,
        latencySeconds: 2,
        warmupSeconds: 0,
        warmupEvents: 200,
        partitions: 3,
        workload: WORKLOAD,
        serviceEnv: {},
        // The peer too: Kafka Connect with the Debezium JDBC sink, fed the same events.
        peers: true,
        peerTasks: 1,
        // The relay-only phase: one replica with one shard, then two sharing two.
        relayReplicas: 2,
        keep: false,
        command: 'test',
        log: () => {},
      },
      {
        kafkaBrokers,
        databaseUrl: adminDatabaseUrl,
        kafkaVersion: 'test',
        postgresVersion: await readServerVersion(adminDatabaseUrl),
      },
    );
    const written = await writeResultFiles(results, out);

    const file = JSON.parse(await readFile(written.json, 'utf8')) as BenchResults;
    const figures = {
      'throughput.naive': file.throughput.naive,
      'throughput.service': file.throughput.service,
      'throughput.ceiling': file.throughput.ceiling,
      'ratio.vsNaive': file.ratio.vsNaive,
      'ratio.vsCeiling': file.ratio.vsCeiling,
      'latency.p50': file.latency.p50,
      'latency.p95': file.latency.p95,
      'latency.p99': file.latency.p99,
      rssPeakMiB: file.rssPeakMiB,
      'throughput.peer': file.throughput.peer,
      'ratio.vsPeer': file.ratio.vsPeer,
      'phases.peer.machineCpu.peer': file.phases.peer?.machineCpu.peer,
      'relay, 2 replicas': file.phases.relay?.[1]?.eventsPerSecond,
    };
    for (const [key, value] of Object.entries(figures)) {
      assert.ok(
        value !== undefined && Number.isFinite(value) && value > 0,
        `${key} is a positive number (${value})`,
      );
    }
    assert.equal(file.events, 300);
    assert.equal(file.phases.naive.events, 60);
    // Every record of the workload reached the sink, and its rows landed in Postgres: one per
    // customer the workload names (the sink validates nothing, so the unknown tenant's too).
    assert.equal(file.phases.peer?.events, 300);
    // Both relay-only runs published the whole pre-filled outbox.
    assert.deepEqual(
      file.phases.relay?.map((run) => [run.replicas, run.events === file.phases.ceiling.announced]),
      [
        [1, true],
        [2, true],
      ],
    );
    assert.equal(file.phases.peer?.customers, distinctCustomersOf(300));
    assert.ok(file.latency.count > 0, 'latency was measured on real announcements');
    assert.ok(file.machine.cpus > 0 && file.machine.memoryMiB > 0 && file.machine.node !== '');
    assert.ok(file.machine.postgres.length > 0);
    // SPEC §4.3: the same events in the same per-customer order give the same rows, whether
    // applied straight from memory or end to end through Kafka by the service.
    assert.equal(file.consistent, true);
    assert.match(await readFile(written.chart, 'utf8'), /^<svg /);
  });
});
