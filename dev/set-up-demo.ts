/**
 * The one-shot `setup` container of docker-compose.yml: applies the migrations and configures
 * the demo tenant, as `npm run dev` does, then exits. It waits for Postgres as the service does
 * (STARTUP_TIMEOUT_MS), so it may start before Postgres is ready.
 */
import { installDependencyMendsOrExit } from '../src/start-up/dependency-mends.ts';

// The mended driver and kafkajs, as the service runs them, before anything below loads it.
installDependencyMendsOrExit('setup');
const { reachDependencies, waitForDependencies } = await import('../src/cli/reach-dependencies.ts');
const { reportFailure } = await import('../src/cli/report-failure.ts');
const { ConfigurationError } = await import('../src/cli/usage-error.ts');
const { loadConfig } = await import('../src/config/config.ts');
const { applyMigrations } = await import('../src/persistence/migrate.ts');
const { configureDemoTenant, DEMO_TENANT_CONFIGURED } = await import('./demo-tenant.ts');

try {
  const loaded = loadConfig(process.env, ['database']);
  if (!loaded.ok) throw new ConfigurationError(loaded.problems);
  waitForDependencies(true);
  await reachDependencies(loaded.config, ['database'], { checkSchema: false });
  await applyMigrations(loaded.config.database);
  process.stdout.write('migrations applied\n');
  if (await configureDemoTenant(loaded.config.database))
    process.stdout.write(`${DEMO_TENANT_CONFIGURED}\n`);
  else process.stdout.write('demo tenant already configured; left as it is\n');
} catch (error) {
  process.exitCode = reportFailure(error);
}
