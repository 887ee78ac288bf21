/**
 * `npm run bench`: starts (or finds) a real Kafka broker and Postgres, as the tests do, runs
 * every benchmark phase on the same data, prints the table, and writes
 * bench/results/latest.json and bench/results/latest.svg. `--help` lists the sizes.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { kafkaConnectJarsCached } from '../dev/kafka-connect-jars.ts';
import { silenceKafkajsTimeoutWarning } from '../src/cli/silence-kafkajs-timeout-warning.ts';
import { installDependencyMendsOrExit } from '../src/start-up/dependency-mends.ts';
import { writeResultFiles } from './result-files.ts';
import { formatResultsTable } from './results.ts';
import { DEFAULT_WORKLOAD } from './workload.ts';

// The bench runs the service's write path in this process: with the service's mended driver
// and kafkajs, installed before anything below loads them (src/start-up/dependency-mends.ts).
installDependencyMendsOrExit('bench');
const { startInfrastructure } = await import('../dev/stack.ts');
const { runBenchmark } = await import('./run-benchmark.ts');

silenceKafkajsTimeoutWarning();

const HELP = `npm run bench -- [options]

Measures, in one run and on the same data: a naive per-message kafkajs consumer, customer-sync
end to end (the real service as a child process), the database write-path ceiling, latency at a
paced offered load, and the service's peak resident memory (SPEC §9).

Uses TEST_KAFKA_BROKERS / TEST_DATABASE_URL when set, else starts Kafka and Postgres itself.

  --events N            messages in the throughput workload      (default 60000)
  --naive-events N      the naive consumer stops after N ...     (default 20000)
  --naive-seconds S     ... or after S seconds                   (default 30)
  --naive-prepared      the naive consumer's statements prepared, as the service's are
                        (default: unprepared, as drizzle runs raw SQL)
  --rate N              offered load of the latency run, ev/s    (default 1000)
  --latency-seconds S   length of the latency run                (default 30)
  --warmup-seconds S    first seconds left out of percentiles    (default 3)
  --warmup-events N     events the service runs over, unmeasured, before the
                        throughput phase: warms the broker's JIT (default 10000; 0: none)
  --partitions N        partitions of the bench topics           (default 6)
  --tenants N           tenants in the workload                  (default 20)
  --customers N         customers in the workload                (default 20000)
  --seed N              workload seed                            (default 42)
  --service-env K=V     extra environment for the service (repeatable), e.g. DATABASE_POOL_MAX=20
  --peers               also run the peer, Kafka Connect standalone with the Debezium JDBC
                        sink, on the same events (fetches its jars once with Maven);
                        default: run it when its jars are cached; --no-peers: never
  --peer-tasks N        the sink connector's tasks.max              (default 1)
  --relay-replicas N    relay-only phase on a pre-filled outbox: 1 replica with 1 shard,
                        then N replicas with N shards            (default: the cores; 0: skip)
  --cpu-prof DIR        write V8 CPU profiles of the service child to DIR
  --out DIR             where latest.json and latest.svg go      (default bench/results)
  --keep                keep the bench databases and topics`;

const { values } = parseArgs({
  allowNegative: true,
  options: {
    events: { type: 'string', default: '60000' },
    'naive-events': { type: 'string', default: '20000' },
    'naive-seconds': { type: 'string', default: '30' },
    'naive-prepared': { type: 'boolean', default: false },
    rate: { type: 'string', default: '1000' },
    'latency-seconds': { type: 'string', default: '30' },
    'warmup-seconds': { type: 'string', default: '3' },
    'warmup-events': { type: 'string', default: '10000' },
    partitions: { type: 'string', default: '6' },
    tenants: { type: 'string', default: String(DEFAULT_WORKLOAD.tenants) },
    customers: { type: 'string', default: String(DEFAULT_WORKLOAD.customers) },
    seed: { type: 'string', default: String(DEFAULT_WORKLOAD.seed) },
    'service-env': { type: 'string', multiple: true, default: [] },
    peers: { type: 'boolean' },
    'peer-tasks': { type: 'string', default: '1' },
    'relay-replicas': { type: 'string', default: String(availableParallelism()) },
    'cpu-prof': { type: 'string' },
    out: { type: 'string', default: fileURLToPath(new URL('./results/', import.meta.url)) },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(HELP);
  process.exit(0);
}

function positiveNumber(flag: keyof typeof values, orZero = false): number {
  const number = Number(values[flag]);
  if (!Number.isFinite(number) || number < 0 || (number === 0 && !orZero)) {
    console.error(`bench: --${flag} must be a ${orZero ? 'non-negative' : 'positive'} number`);
    process.exit(2);
  }
  return number;
}

const serviceEnv = Object.fromEntries(
  values['service-env'].map((pair) => {
    const at = pair.indexOf('=');
    if (at <= 0) {
      console.error(`bench: --service-env takes KEY=VALUE, not ${pair}`);
      process.exit(2);
    }
    return [pair.slice(0, at), pair.slice(at + 1)];
  }),
);

const log = (line: string) => console.log(`[bench] ${line}`);
const PROJECT_CACHE_DIR = fileURLToPath(new URL('../.cache/', import.meta.url));
// Every flag is checked before anything starts: a typo costs a line, not a broker start.
const options = {
  events: Math.round(positiveNumber('events')),
  naiveEvents: Math.round(positiveNumber('naive-events')),
  naiveSeconds: positiveNumber('naive-seconds'),
  naivePrepared: values['naive-prepared'],
  rate: positiveNumber('rate'),
  latencySeconds: positiveNumber('latency-seconds'),
  warmupSeconds: positiveNumber('warmup-seconds', true),
  warmupEvents: Math.round(positiveNumber('warmup-events', true)),
  partitions: Math.round(positiveNumber('partitions')),
  workload: {
    ...DEFAULT_WORKLOAD,
    tenants: Math.round(positiveNumber('tenants')),
    customers: Math.round(positiveNumber('customers')),
    seed: Math.round(positiveNumber('seed')),
  },
  serviceEnv,
  peers: values.peers ?? kafkaConnectJarsCached({ cacheDir: PROJECT_CACHE_DIR }),
  peerTasks: Math.round(positiveNumber('peer-tasks')),
  relayReplicas: Math.round(positiveNumber('relay-replicas', true)),
  ...(values['cpu-prof'] ? { cpuProfileDir: values['cpu-prof'] } : {}),
  keep: values.keep,
  command: ['npm run bench', ...process.argv.slice(2)].join(' '),
  log,
};
const infrastructure = await startInfrastructure({ log: (line) => log(`infra: ${line}`) });
let exitCode = 0;
try {
  const results = await runBenchmark(options, infrastructure);
  const written = await writeResultFiles(results, values.out);
  console.log(`\n${formatResultsTable(results)}\n`);
  console.log(`wrote ${written.json} and ${written.chart}`);
} catch (error) {
  console.error(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  exitCode = 1;
} finally {
  await infrastructure.stop().catch((error: unknown) => log(`stopping failed: ${String(error)}`));
}
process.exit(exitCode);
