import type { LatencySecond } from './latency-statistics.ts';
import type { CpuSeconds, CpuUser } from './machine-cpu.ts';
import type { LatencyStages } from './paced-latency.ts';
import type { RelayRun } from './relay-throughput.ts';
import type { MemorySample } from './service-child.ts';

/** SPEC §9. */
export const TARGETS = {
  vsPeer: 1.2,
  vsNaive: 20,
  vsCeiling: 0.8,
  /** relay-only throughput with N shards over N x one shard's, up to the cores */
  relayScaling: 0.8,
  p99Ms: 50,
  rssMiB: 160,
  serviceCpuMicrosPerEvent: 60,
} as const;

/** The peer phase: Kafka Connect's Debezium JDBC sink on the same events (peer-records.ts). */
export interface PeerPhase {
  events: number;
  seconds: number;
  /** rows the sink ended with */
  customers: number;
  machineCpu: CpuSeconds;
  /** the connector's configuration as run (without the password) */
  settings: Record<string, string>;
}

/** What `npm run bench` writes to bench/results/latest.json. */
export interface BenchResults {
  startedAt: string;
  durationSeconds: number;
  command: string;
  /** messages in the throughput workload (service and ceiling; the naive run takes a prefix) */
  events: number;
  workload: {
    seed: number;
    tenants: number;
    customers: number;
    duplicateShare: number;
    outOfOrderShare: number;
    invalidShare: number;
    partitions: number;
  };
  /** events per second; `peer` only when the peer phase ran */
  throughput: { naive: number; service: number; ceiling: number; peer?: number };
  ratio: { vsNaive: number; vsCeiling: number; vsPeer?: number };
  /** milliseconds from a request's send to its customer.updated being readable */
  latency: {
    p50: number;
    p95: number;
    p99: number;
    max: number;
    mean: number;
    count: number;
    offeredRate: number;
    achievedRate: number;
    warmupSeconds: number;
    timeline: LatencySecond[];
    /** where along the way the time went (paced-latency.ts) */
    stages?: LatencyStages;
  };
  rssPeakMiB: number;
  phases: {
    /**
     * cpuSeconds: this process's CPU on the write path; machineCpu: every process's CPU while
     * the clock ran (here `bench` is the write path)
     */
    ceiling: {
      events: number;
      seconds: number;
      announced: number;
      cpuSeconds: number;
      machineCpu: CpuSeconds;
    };
    naive: { events: number; seconds: number };
    /**
     * cpuSeconds: the service process's CPU from joining to the last announcement; machineCpu:
     * every process's CPU in that time (here `bench` is only the benchmark's polling)
     */
    service: {
      events: number;
      seconds: number;
      announced: number;
      rssPeakMiB: number;
      cpuSeconds: number;
      machineCpu: CpuSeconds;
    };
    latency: { sent: number; seconds: number; rssPeakMiB: number };
    peer?: PeerPhase;
    /** relay only, on a pre-filled outbox: 1 replica with 1 shard, then N replicas with N */
    relay?: RelayRun[];
  };
  /** the service's database ended identical to the ceiling's: same events, same result */
  consistent: boolean;
  memory: { throughput: MemorySample[]; latency: MemorySample[] };
  settings: Record<string, string | number>;
  targets: typeof TARGETS;
  /** `vsPeer` only when the peer phase ran */
  met: {
    vsNaive: boolean;
    vsCeiling: boolean;
    p99: boolean;
    rss: boolean;
    serviceCpu: boolean;
    vsPeer?: boolean;
    relayScaling?: boolean;
  };
  machine: {
    cpus: number;
    cpuModel: string;
    memoryMiB: number;
    node: string;
    platform: string;
    kafka: string;
    postgres: string;
    /** 1-minute load average when the run started: other work on the machine skews results */
    loadAverage: number;
  };
}

export function targetsMet(
  results: Pick<BenchResults, 'ratio' | 'latency' | 'rssPeakMiB' | 'phases'>,
): BenchResults['met'] {
  return {
    vsNaive: results.ratio.vsNaive >= TARGETS.vsNaive,
    vsCeiling: results.ratio.vsCeiling >= TARGETS.vsCeiling,
    p99: results.latency.p99 <= TARGETS.p99Ms,
    rss: results.rssPeakMiB <= TARGETS.rssMiB,
    serviceCpu: serviceCpuMicrosPerEvent(results.phases) <= TARGETS.serviceCpuMicrosPerEvent,
    ...(results.ratio.vsPeer !== undefined
      ? { vsPeer: results.ratio.vsPeer >= TARGETS.vsPeer }
      : {}),
    ...(relayScaling(results.phases) !== undefined
      ? { relayScaling: (relayScaling(results.phases) as number) >= TARGETS.relayScaling }
      : {}),
  };
}

/** N shards' relay throughput over N times one shard's; undefined without both runs. */
export function relayScaling(phases: Pick<BenchResults['phases'], 'relay'>): number | undefined {
  const one = phases.relay?.find((run) => run.replicas === 1);
  const many = phases.relay?.find((run) => run.replicas > 1);
  if (one === undefined || many === undefined) return undefined;
  return many.eventsPerSecond / (many.replicas * one.eventsPerSecond);
}

/** The service process's CPU per event in the throughput phase, in microseconds. */
export function serviceCpuMicrosPerEvent(phases: Pick<BenchResults['phases'], 'service'>): number {
  return (phases.service.machineCpu.service * 1e6) / Math.max(phases.service.events, 1);
}

/** The table `npm run bench` prints. */
export function formatResultsTable(results: BenchResults): string {
  const mark = (ok: boolean) => (ok ? 'ok' : 'MISSED');
  const rate = (value: number) => `${Math.round(value).toLocaleString('en-US')} ev/s`;
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  type Row = [string, string, string];
  const rows: Row[] = [
    [
      results.settings.naiveStatements === 'prepared'
        ? 'naive eachMessage consumer (prepared)'
        : 'naive eachMessage consumer',
      rate(results.throughput.naive),
      '',
    ],
    ['customer-sync, end to end', rate(results.throughput.service), ''],
    ...(results.throughput.peer !== undefined
      ? [['debezium-jdbc-sink (Kafka Connect)', rate(results.throughput.peer), ''] as Row]
      : []),
    ['database ceiling (no Kafka)', rate(results.throughput.ceiling), ''],
    ...(results.ratio.vsPeer !== undefined
      ? [
          [
            'customer-sync / debezium-jdbc-sink',
            `${results.ratio.vsPeer.toFixed(2)}x`,
            `>= ${TARGETS.vsPeer}x ${mark(results.met.vsPeer === true)}`,
          ] as Row,
        ]
      : []),
    [
      'customer-sync / naive',
      `${results.ratio.vsNaive.toFixed(1)}x`,
      `>= ${TARGETS.vsNaive}x ${mark(results.met.vsNaive)}`,
    ],
    [
      'customer-sync / ceiling',
      `${(results.ratio.vsCeiling * 100).toFixed(0)}%`,
      `>= ${TARGETS.vsCeiling * 100}% ${mark(results.met.vsCeiling)}`,
    ],
    [`latency p50 @ ${results.latency.offeredRate} ev/s`, ms(results.latency.p50), ''],
    [`latency p95 @ ${results.latency.offeredRate} ev/s`, ms(results.latency.p95), ''],
    [
      `latency p99 @ ${results.latency.offeredRate} ev/s`,
      ms(results.latency.p99),
      `<= ${TARGETS.p99Ms} ms ${mark(results.met.p99)}`,
    ],
    ...(results.phases.relay ?? []).map(
      (run): Row => [
        `relay only, ${run.replicas} replica(s) x 1 shard`,
        rate(run.eventsPerSecond),
        '',
      ],
    ),
    ...(relayScaling(results.phases) !== undefined
      ? [
          [
            'relay N shards / (N x 1 shard)',
            `${((relayScaling(results.phases) as number) * 100).toFixed(0)}%`,
            `>= ${TARGETS.relayScaling * 100}% ${mark(results.met.relayScaling === true)}`,
          ] as Row,
        ]
      : []),
    ...(results.latency.stages
      ? [
          [
            'latency stages p50 (p99)',
            formatStages(results.latency.stages),
            'since the send: applied, published, readable',
          ] as Row,
        ]
      : []),
    [
      'peak RSS of the service',
      `${results.rssPeakMiB.toFixed(0)} MiB`,
      `<= ${TARGETS.rssMiB} MiB ${mark(results.met.rss)}`,
    ],
    [
      'service CPU per event',
      `${serviceCpuMicrosPerEvent(results.phases).toFixed(0)} µs`,
      `<= ${TARGETS.serviceCpuMicrosPerEvent} µs ${mark(results.met.serviceCpu)}`,
    ],
  ];
  const widths = [0, 1, 2].map((column) =>
    Math.max(...rows.map((row) => (row[column] as string).length)),
  );
  const line = (row: Row) =>
    `  ${row[0].padEnd(widths[0] as number)}  ${row[1].padStart(widths[1] as number)}  ${row[2]}`.trimEnd();
  const { machine } = results;
  return [
    `customer-sync benchmark: ${results.events.toLocaleString('en-US')} events, ${results.workload.partitions} partitions` +
      ` (naive: first ${results.phases.naive.events.toLocaleString('en-US')})`,
    `machine: ${machine.cpus} x ${machine.cpuModel}, ${Math.round(machine.memoryMiB / 1024)} GiB, Node ${machine.node}, ` +
      `Kafka ${machine.kafka}, PostgreSQL ${machine.postgres}, load ${machine.loadAverage.toFixed(2)}`,
    '',
    ...rows.map(line),
    '',
    ...formatCpuTable(results),
    '',
    `service and ceiling databases agree: ${results.consistent ? 'yes' : 'NO'}`,
  ].join('\n');
}

function formatStages(stages: LatencyStages): string {
  const one = ({ p50, p99 }: { p50: number; p99: number }) =>
    `${p50.toFixed(0)} (${p99.toFixed(0)})`;
  return `${one(stages.applied)} / ${one(stages.published)} / ${one(stages.readable)} ms`;
}

const CPU_COLUMNS: Array<[CpuUser, string]> = [
  ['service', 'service'],
  ['bench', 'bench'],
  ['postgres', 'postgres'],
  ['kafka', 'kafka'],
  ['peer', 'peer'],
  ['other', 'other'],
];

/**
 * Where the machine's CPU went, in microseconds per event, by process: the profile that says
 * what limits throughput. When the cores are all busy, cores / total is the most events per
 * second the phase can reach on this machine. In the ceiling, `bench` is the write path; `peer`
 * is the Kafka Connect worker of the peer phase.
 */
export function formatCpuTable(results: Pick<BenchResults, 'phases' | 'machine'>): string[] {
  const phases: Array<[string, { events: number; seconds: number; machineCpu: CpuSeconds }]> = [
    ['database ceiling', results.phases.ceiling],
    ['customer-sync, end to end', results.phases.service],
    ...(results.phases.peer
      ? [['debezium-jdbc-sink', results.phases.peer] as (typeof phases)[number]]
      : []),
    ...(results.phases.relay ?? []).map(
      (run) => [`relay only, ${run.replicas} replica(s)`, run] as (typeof phases)[number],
    ),
  ];
  const header = ['CPU µs per event', ...CPU_COLUMNS.map(([, label]) => label), 'total', 'busy'];
  const rows = phases.map(([name, phase]) => {
    const perEvent = (seconds: number) => Math.round((seconds * 1e6) / Math.max(phase.events, 1));
    const total = Object.values(phase.machineCpu).reduce((sum, seconds) => sum + seconds, 0);
    const busyCores = total / Math.max(phase.seconds, 1e-9);
    return [
      name,
      ...CPU_COLUMNS.map(([user]) => String(perEvent(phase.machineCpu[user]))),
      String(perEvent(total)),
      `${busyCores.toFixed(2)} of ${results.machine.cpus} cores`,
    ];
  });
  const widths = header.map((_, column) =>
    Math.max(...[header, ...rows].map((row) => (row[column] as string).length)),
  );
  return [header, ...rows].map((row) =>
    `  ${row.map((cell, column) => (column === 0 ? cell.padEnd(widths[0] as number) : cell.padStart(widths[column] as number))).join('  ')}`.trimEnd(),
  );
}
