/**
 * `npm test`: starts the real infrastructure the integration tests need (SPEC: real Kafka, real
 * Postgres; see dev/stack.ts for how it is found or started), runs every test file
 * with node's test runner, and stops what it started. `--unit` runs the unit tests alone, with
 * no infrastructure. Extra arguments are test files or globs.
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { silenceKafkajsTimeoutWarning } from '../src/cli/silence-kafkajs-timeout-warning.ts';
import { installDependencyMendsOrExit } from '../src/start-up/dependency-mends.ts';

// The tests run the driver and kafkajs as the service does: mended, here and in every test
// file's process (the preload below), before anything loads them.
installDependencyMendsOrExit('npm test');
const DEPENDENCY_MENDS_PRELOAD = fileURLToPath(
  new URL('../src/start-up/dependency-mends-preload.ts', import.meta.url),
);
const { startInfrastructure } = await import('../dev/stack.ts');

silenceKafkajsTimeoutWarning();

/**
 * Where the services the tests start log (test/support/service-process.ts), and where a failed
 * run's broker, database and registry logs are copied.
 */
const TEST_LOG_DIR = '.tmp/test-logs';

const { values, positionals } = parseArgs({
  options: {
    unit: { type: 'boolean', default: false },
    concurrency: { type: 'string' },
  },
  allowPositionals: true,
});

const UNIT = 'test/unit/**/*.test.ts';
const INTEGRATION = 'test/integration/**/*.test.ts';
const patterns = positionals.length > 0 ? positionals : values.unit ? [UNIT] : [UNIT, INTEGRATION];
const needsInfrastructure =
  !values.unit && patterns.some((pattern) => !pattern.startsWith('test/unit'));

// Each run's service logs start afresh, so what is there after a failure is this run's.
await rm(TEST_LOG_DIR, { recursive: true, force: true });

// The whole suite includes the registry tests: start the registry with the rest, in parallel.
// A run of chosen files leaves it out; test/support/test-schema-registry.ts then starts one for
// the files that ask for it.
const needsSchemaRegistry = needsInfrastructure && positionals.length === 0;
const infrastructure = needsInfrastructure
  ? await startInfrastructure({
      log: (line) => console.log(`[infra] ${line}`),
      schemaRegistry: needsSchemaRegistry,
    })
  : undefined;
if (infrastructure) {
  const registry = infrastructure.schemaRegistry;
  console.log(
    `# infrastructure: Kafka ${infrastructure.kafkaVersion} (${infrastructure.how.kafka}) at ${infrastructure.kafkaBrokers}; ` +
      `PostgreSQL ${infrastructure.postgresVersion} (${infrastructure.how.postgres})` +
      (registry
        ? `; Schema Registry ${registry.version} (${infrastructure.how.schemaRegistry}) at ${registry.url}`
        : ''),
  );
}

/** How many of the broker's last warnings and errors a failed run prints. */
const BROKER_LINES_PRINTED = 20;

/**
 * After a failed run, before the infrastructure's throwaway directories go: copies its logs
 * next to the services' and prints the broker's last warnings, so CI output alone tells what
 * the broker saw.
 */
async function keepInfrastructureLogs() {
  console.log(`# the services the tests started logged to ${TEST_LOG_DIR}/ (one file per launch)`);
  const logFiles = Object.entries(infrastructure?.logFiles ?? {});
  if (logFiles.length === 0) return;
  await mkdir(TEST_LOG_DIR, { recursive: true });
  for (const [service, file] of logFiles) {
    const kept = `${TEST_LOG_DIR}/${service}-${basename(file)}`;
    await copyFile(file, kept).catch(() => undefined);
    console.log(`# ${service} log kept in ${kept}`);
  }
  const brokerLog = infrastructure?.logFiles.kafka;
  if (brokerLog === undefined) return;
  const warnings = (await readFile(brokerLog, 'utf8').catch(() => ''))
    .split('\n')
    .filter((line) => /\b(WARN|ERROR|FATAL)\b/.test(line))
    .slice(-BROKER_LINES_PRINTED);
  if (warnings.length > 0)
    console.log(`# the broker's last ${warnings.length} warnings:\n${warnings.join('\n')}`);
}

let stopping = false;
async function stopInfrastructure() {
  if (stopping) return;
  stopping = true;
  await infrastructure
    ?.stop()
    .catch((error: unknown) => console.error(`[infra] stop failed: ${String(error)}`));
}

const child = spawn(
  process.execPath,
  [
    '--import',
    DEPENDENCY_MENDS_PRELOAD,
    '--test',
    `--test-concurrency=${values.concurrency ?? '2'}`,
    '--test-reporter=spec',
    '--test-timeout=300000',
    ...patterns,
  ],
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      ...(infrastructure
        ? {
            TEST_KAFKA_BROKERS: infrastructure.kafkaBrokers,
            TEST_DATABASE_URL: infrastructure.databaseUrl,
          }
        : {}),
      ...(infrastructure?.schemaRegistry
        ? { TEST_SCHEMA_REGISTRY_URL: infrastructure.schemaRegistry.url }
        : {}),
    },
  },
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => child.kill(signal));
}

const exitCode = await new Promise<number>((resolve) => {
  child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
});
if (exitCode !== 0) await keepInfrastructureLogs();
await stopInfrastructure();
process.exit(exitCode);
