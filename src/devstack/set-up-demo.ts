/**
 * The one-shot `setup` container of docker-compose.yml: applies the migrations and configures
 * the demo tenant, as `npm run dev` does, then exits. It waits for Postgres as the service does
 * (STARTUP_TIMEOUT_MS), so it may start before Postgres is ready.
 */
import { reachDependencies, waitForDependencies } from '../cli/reach-dependencies.ts';
import { reportFailure } from '../cli/report-failure.ts';
import { ConfigurationError } from '../cli/usage-error.ts';
import { loadConfig } from '../config/config.ts';
import { applyMigrations } from '../persistence/migrate.ts';
import { configureDemoTenant, DEMO_TENANT_CONFIGURED } from './demo-tenant.ts';

try {
  const loaded = loadConfig(process.env, ['database']);
  if (!loaded.ok) throw new ConfigurationError(loaded.problems);
  waitForDependencies(true);
  await reachDependencies(loaded.config, ['database'], { checkSchema: false });
  await applyMigrations(loaded.config.database.url);
  process.stdout.write('migrations applied\n');
  if (await configureDemoTenant(loaded.config.database.url))
    process.stdout.write(`${DEMO_TENANT_CONFIGURED}\n`);
  else process.stdout.write('demo tenant already configured; left as it is\n');
} catch (error) {
  process.exitCode = reportFailure(error);
}
