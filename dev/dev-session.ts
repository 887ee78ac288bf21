/**
 * `npm run dev` (started by dev.ts once the database driver is mended): a newcomer's one
 * command. Uses the Kafka and Postgres the environment names
 * (KAFKA_BROKERS, DATABASE_URL), or starts real local ones (dev/stack.ts), applies the
 * migrations, configures a demo tenant, and runs the service until it is asked to stop, then
 * stops everything it started. Writes .tmp/dev.env for a second terminal, and removes it.
 *
 * Stops on SIGINT, SIGTERM or SIGHUP to this process (the npm script execs it, so npm's
 * forwarding reaches it), when its parent goes away (npm killed), when the service ends, and
 * when the Kafka or Postgres it started ends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { reachDependencies } from '../src/cli/reach-dependencies.ts';
import { reportFailure } from '../src/cli/report-failure.ts';
import { ConfigurationError } from '../src/cli/usage-error.ts';
import { loadConfig } from '../src/config/config.ts';
import { applyMigrations } from '../src/persistence/migrate.ts';
import { configureDemoTenant, DEMO_TENANT_CONFIGURED } from './demo-tenant.ts';
import { isFromDevEnvFile, writeDevEnvFile } from './dev-env-file.ts';
import { startLendingSimulator } from './lending-simulator/lending-simulator.ts';
import { type Infrastructure, startInfrastructure } from './stack.ts';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = fileURLToPath(new URL('../src/cli/bin.ts', import.meta.url));
const DEV_ENV_FILE = `${PROJECT_ROOT}.tmp/dev.env`;
/** The service's own graceful shutdown has SHUTDOWN_TIMEOUT_MS; this is for one that hangs. */
const SERVICE_STOP_GRACE_MS = 45_000;

const log = (line: string) => process.stderr.write(`[dev] ${line}\n`);

const stop = new AbortController();
function requestStop(reason: string): void {
  if (stop.signal.aborted) return;
  log(`${reason}: stopping`);
  stop.abort();
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.on(signal, () => requestStop(`${signal} received`));
// npm killed (SIGKILL) cannot tell us; we notice that we have been handed to another parent.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) requestStop('the parent process ended');
}, 500).unref();

const stopped = new Promise<void>((resolve) =>
  stop.signal.addEventListener('abort', () => resolve(), { once: true }),
);

// A shell that sourced an earlier run's .tmp/dev.env names that run's stack, which is gone (or
// is another `npm run dev`'s): those addresses are not the user's choice, so they are ignored.
const environment: NodeJS.ProcessEnv = { ...process.env };
if (isFromDevEnvFile(environment)) {
  log(
    'KAFKA_BROKERS and DATABASE_URL come from a .tmp/dev.env sourced earlier: ignoring them and starting a stack of its own',
  );
  delete environment.KAFKA_BROKERS;
  delete environment.DATABASE_URL;
}

let infrastructure: Infrastructure | undefined;
let lendingSimulator: Awaited<ReturnType<typeof startLendingSimulator>> | undefined;
let wroteDevEnv = false;
let exitCode = 0;
try {
  exitCode = await runDevStack();
} catch (error) {
  exitCode = reportFailure(error);
} finally {
  await lendingSimulator?.close().catch(() => {});
  if (infrastructure) {
    log('stopping Kafka and PostgreSQL');
    await infrastructure.stop().catch((error: unknown) => log(`stopping failed: ${String(error)}`));
  }
  if (wroteDevEnv) await rm(DEV_ENV_FILE, { force: true });
}
process.exit(exitCode);

async function runDevStack(): Promise<number> {
  const named = environment.KAFKA_BROKERS && environment.DATABASE_URL;
  infrastructure = named
    ? undefined
    : await startInfrastructure({
        log,
        // The dev stack is our own, whatever a test run left in the environment.
        env: { ...environment, TEST_KAFKA_BROKERS: '', TEST_DATABASE_URL: '' },
      });
  if (stop.signal.aborted) return 0;
  const kafkaBrokers = environment.KAFKA_BROKERS || (infrastructure?.kafkaBrokers as string);
  const databaseUrl = environment.DATABASE_URL || (infrastructure?.databaseUrl as string);

  const loaded = loadConfig({
    ...environment,
    KAFKA_BROKERS: kafkaBrokers,
    DATABASE_URL: databaseUrl,
  });
  if (!loaded.ok) throw new ConfigurationError(loaded.problems);
  // Named by the environment, they may be wrong: one line naming which and where, in seconds.
  await reachDependencies(loaded.config, ['database', 'kafka'], { checkSchema: false });
  await applyMigrations(databaseUrl);
  if (await configureDemoTenant(databaseUrl)) log(DEMO_TENANT_CONFIGURED);

  // SPEC §6: the lending-system simulator stands in for the tenants' lending systems, on 8090 as
  // in docker compose (or any free port if 8090 is taken), unless LENDING_API_URL names a real one.
  lendingSimulator = environment.LENDING_API_URL
    ? undefined
    : await startLendingSimulator({ port: 8090, host: '127.0.0.1' }).catch(() =>
        startLendingSimulator({ port: 0, host: '127.0.0.1' }),
      );
  if (lendingSimulator) log(`lending-system simulator at ${lendingSimulator.url}`);
  if (stop.signal.aborted) return 0;

  // The simulator serves plain HTTP; a real lending system named in LENDING_API_URL is https.
  const allowInsecureLendingHttp =
    environment.LENDING_API_ALLOW_INSECURE_HTTP ?? (lendingSimulator ? 'true' : 'false');
  await mkdir(`${PROJECT_ROOT}.tmp`, { recursive: true });
  await writeFile(
    DEV_ENV_FILE,
    writeDevEnvFile({ kafkaBrokers, databaseUrl, allowInsecureLendingHttp, pid: process.pid }),
  );
  wroteDevEnv = true;
  log(`Kafka ${infrastructure?.kafkaVersion ?? '(from KAFKA_BROKERS)'} at ${kafkaBrokers}`);
  log(`PostgreSQL ${infrastructure?.postgresVersion ?? '(from DATABASE_URL)'}`);
  log(
    'in another terminal: source .tmp/dev.env && npx customer-sync produce --file schemas/examples/demo-events.ndjson',
  );

  const service = spawn(process.execPath, [BIN, 'run'], {
    env: {
      ...environment,
      LENDING_API_URL: environment.LENDING_API_URL || (lendingSimulator?.url as string),
      LENDING_API_ALLOW_INSECURE_HTTP: allowInsecureLendingHttp,
      KAFKA_BROKERS: kafkaBrokers,
      DATABASE_URL: databaseUrl,
      KAFKA_CREATE_TOPICS: environment.KAFKA_CREATE_TOPICS ?? 'true',
      HTTP_PORT: environment.HTTP_PORT ?? '8080',
      LOG_LEVEL: environment.LOG_LEVEL ?? 'info',
    },
    stdio: 'inherit',
  });
  const serviceExit = new Promise<number>((resolve) =>
    service.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))),
  );
  const ended = await Promise.race([
    serviceExit.then((code) => ({ by: 'service' as const, code })),
    stopped.then(() => ({ by: 'stop' as const })),
    ...(infrastructure?.ended
      ? [infrastructure.ended.then((how) => ({ by: 'infrastructure' as const, how }))]
      : []),
  ]);
  if (ended.by === 'service') {
    log(`the service exited with code ${ended.code}`);
    return ended.code;
  }
  if (ended.by === 'infrastructure') requestStop(ended.how);
  const code = await stopService(service, serviceExit);
  return ended.by === 'infrastructure' ? 1 : code;
}

async function stopService(service: ChildProcess, exit: Promise<number>): Promise<number> {
  log('stopping the service');
  service.kill('SIGTERM');
  const hung = setTimeout(() => service.kill('SIGKILL'), SERVICE_STOP_GRACE_MS);
  try {
    return await exit;
  } finally {
    clearTimeout(hung);
  }
}
