import { applyMigrations, migrationTimeoutsOf } from '../../persistence/migrate.ts';
import { loadCommandConfig } from '../load-command-config.ts';
import { reachDependencies } from '../reach-dependencies.ts';
import { parseCommandLine } from '../usage-error.ts';

export const migrateHelp = `customer-sync migrate

Applies the database migrations in drizzle/ to DATABASE_URL. Safe to run again, and from
several replicas at once (they take turns).`;

export async function migrateCommand(args: string[]): Promise<number> {
  parseCommandLine(args, {});
  const config = loadCommandConfig(['database']);
  await reachDependencies(config, ['database'], { checkSchema: false });
  await applyMigrations(config.database, migrationTimeoutsOf(config));
  process.stdout.write('migrations applied\n');
  return 0;
}
