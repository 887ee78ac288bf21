/**
 * `npm run dev`: a newcomer's one command. Uses the Kafka and Postgres the environment names
 * (KAFKA_BROKERS, DATABASE_URL), or starts real local ones (src/devstack/stack.ts), applies the
 * migrations, configures a demo tenant, and runs the service until Ctrl-C, then stops
 * everything it started. Writes .tmp/dev.env so that a second terminal can use the CLI.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { silenceKafkajsTimeoutWarning } from '../cli/silence-kafkajs-timeout-warning.ts';
import { installPostgresDriverFixOrExit } from '../persistence/postgres-driver-fix.ts';

// The mended driver, as the service runs it, before anything below loads it.
installPostgresDriverFixOrExit('dev');
const { startLendingSimulator } = await import('../enrichment/lending-simulator.ts');
const { connectDatabase } = await import('../persistence/database.ts');
const { applyMigrations } = await import('../persistence/migrate.ts');
const { createTenantRepository } = await import('../persistence/tenant-repository.ts');
const { startInfrastructure } = await import('./stack.ts');

silenceKafkajsTimeoutWarning();

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../cli/bin.ts', import.meta.url));
const DEMO_TENANT = { tenantId: 'tenant-a', taskTypes: ['collections', 'servicing'] };

const log = (line: string) => process.stderr.write(`[dev] ${line}\n`);

const named = process.env.KAFKA_BROKERS && process.env.DATABASE_URL;
const infrastructure = named
  ? undefined
  : await startInfrastructure({
      log,
      // The dev stack is our own, whatever a test run left in the environment.
      env: { ...process.env, TEST_KAFKA_BROKERS: '', TEST_DATABASE_URL: '' },
    });
const kafkaBrokers = process.env.KAFKA_BROKERS || (infrastructure?.kafkaBrokers as string);
const databaseUrl = process.env.DATABASE_URL || (infrastructure?.databaseUrl as string);

await applyMigrations(databaseUrl);
const database = connectDatabase(databaseUrl, { poolMax: 1 });
const tenants = createTenantRepository(database.db);
if (!(await tenants.list()).some((tenant) => tenant.tenantId === DEMO_TENANT.tenantId)) {
  await tenants.save(DEMO_TENANT);
  log(
    `configured demo tenant ${DEMO_TENANT.tenantId} (task types ${DEMO_TENANT.taskTypes.join(', ')})`,
  );
}
await database.close();

// SPEC §6: the lending-system simulator stands in for the tenants' lending systems, on 8090 as
// in docker compose (or any free port if 8090 is taken), unless LENDING_API_URL names a real one.
const lendingSimulator = process.env.LENDING_API_URL
  ? undefined
  : await startLendingSimulator({ port: 8090, host: '127.0.0.1' }).catch(() =>
      startLendingSimulator({ port: 0, host: '127.0.0.1' }),
    );
if (lendingSimulator) log(`lending-system simulator at ${lendingSimulator.url}`);

const env = {
  ...process.env,
  LENDING_API_URL: process.env.LENDING_API_URL || (lendingSimulator?.url as string),
  // The simulator serves plain HTTP; a real lending system named in LENDING_API_URL is https.
  LENDING_API_ALLOW_INSECURE_HTTP:
    process.env.LENDING_API_ALLOW_INSECURE_HTTP ?? (lendingSimulator ? 'true' : 'false'),
  KAFKA_BROKERS: kafkaBrokers,
  DATABASE_URL: databaseUrl,
  KAFKA_CREATE_TOPICS: process.env.KAFKA_CREATE_TOPICS ?? 'true',
  HTTP_PORT: process.env.HTTP_PORT ?? '8080',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
};
await mkdir(`${PROJECT_ROOT}/.tmp`, { recursive: true });
await writeFile(
  `${PROJECT_ROOT}/.tmp/dev.env`,
  `export KAFKA_BROKERS=${kafkaBrokers}\nexport DATABASE_URL=${databaseUrl}\n` +
    `export LENDING_API_ALLOW_INSECURE_HTTP=${env.LENDING_API_ALLOW_INSECURE_HTTP}\n`,
);
log(`Kafka ${infrastructure?.kafkaVersion ?? '(from KAFKA_BROKERS)'} at ${kafkaBrokers}`);
log(`PostgreSQL ${infrastructure?.postgresVersion ?? '(from DATABASE_URL)'}`);
log(
  'in another terminal: source .tmp/dev.env && npx customer-sync produce --file schemas/examples/demo-events.ndjson',
);

const service = spawn(process.execPath, [BIN, 'run'], { env, stdio: 'inherit' });
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  log('stopping the service');
  service.kill('SIGTERM');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const code = await new Promise<number>((resolve) =>
  service.on('exit', (exitCode) => resolve(exitCode ?? 1)),
);
await lendingSimulator?.close();
if (infrastructure) {
  log('stopping Kafka and PostgreSQL');
  await infrastructure.stop();
}
process.exit(code);
