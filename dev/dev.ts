/**
 * `npm run dev`'s entry point: mends the database driver, as the service's entry point does,
 * before anything loads it, then runs the dev stack (dev-session.ts). The npm script execs this
 * process, so the signals npm forwards reach it.
 */
import { silenceKafkajsTimeoutWarning } from '../src/cli/silence-kafkajs-timeout-warning.ts';
import { installPostgresDriverFixOrExit } from '../src/persistence/postgres-driver-fix.ts';

installPostgresDriverFixOrExit('dev');
silenceKafkajsTimeoutWarning();
await import('./dev-session.ts');
