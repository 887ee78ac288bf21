import {
  installKafkajsEncodingMend,
  KafkajsMendError,
} from '../messaging/kafka/kafkajs-encoding-mend.ts';
import { DriverFixError, installPostgresDriverFix } from '../persistence/postgres-driver-fix.ts';

/**
 * Every entry point (the CLI and service, the bench, the dev stack, the test runner and each
 * test file's process) calls this before anything loads postgres.js or kafkajs, so what runs is
 * what the service runs: the database driver mended against the crash and the stall
 * (src/persistence/postgres-driver-fix.ts), kafkajs' producer against its waste
 * (src/messaging/kafka/kafkajs-encoding-mend.ts). A dependency whose source a mend was not
 * written for: one line on stderr naming it, and exit code 1.
 */
export function installDependencyMendsOrExit(program: string): void {
  try {
    installPostgresDriverFix();
    installKafkajsEncodingMend();
  } catch (error) {
    if (!(error instanceof DriverFixError) && !(error instanceof KafkajsMendError)) throw error;
    process.stderr.write(`${program}: ${error.message}\n`);
    process.exit(1);
  }
}
