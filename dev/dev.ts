/**
 * `npm run dev`'s entry point: mends the database driver and kafkajs, as the service's entry
 * point does, before anything loads them, then runs the dev stack (dev-session.ts). The npm script execs this
 * process, so the signals npm forwards reach it.
 */
import { silenceKafkajsTimeoutWarning } from '../src/cli/silence-kafkajs-timeout-warning.ts';
import { installDependencyMendsOrExit } from '../src/start-up/dependency-mends.ts';

installDependencyMendsOrExit('dev');
silenceKafkajsTimeoutWarning();
await import('./dev-session.ts');
