import type { Config } from '../config/config.ts';
import { createProbeKafka, probeKafka } from '../messaging/kafka/kafka-availability.ts';
import { createLogger } from '../observability/logger.ts';
import { probeDatabase } from '../persistence/database-availability.ts';
import { createStartUpWaits, describeWaitingReport } from '../start-up/start-up-waits.ts';

/**
 * Without --wait a command gives an unreachable Postgres or Kafka this long (a blip, a restart
 * already under way), then fails with one line: a person is waiting for its answer. With
 * --wait it waits as the service does, up to STARTUP_TIMEOUT_MS, and says so as it waits.
 */
export const COMMAND_WAIT_MS = 5_000;

let waitAsTheServiceDoes = false;

/** `customer-sync <command> --wait` (set once, by the CLI's entry point, before the command runs). */
export function waitForDependencies(wait: boolean): void {
  waitAsTheServiceDoes = wait;
}

export type CommandDependency = 'database' | 'kafka';

/**
 * Reaches what a command connects to before it connects (SPEC §8: the same start-up rules as
 * the service): waits for an unreachable one, fails at once on a configuration that cannot
 * work. Throws DependencyUnavailableError or DependencyMisconfiguredError (exit 69 or 78).
 */
export async function reachDependencies(
  config: Pick<Config, 'kafka' | 'database' | 'startUpTimeoutMs'>,
  needs: readonly CommandDependency[],
  options: { checkSchema?: boolean } = {},
): Promise<void> {
  const wait = waitAsTheServiceDoes;
  const waits = createStartUpWaits({
    config,
    timeoutMs: wait ? config.startUpTimeoutMs : COMMAND_WAIT_MS,
    onWaiting: (report) => {
      if (wait) process.stderr.write(`customer-sync: ${describeWaitingReport(report)}\n`);
    },
  });
  if (needs.includes('database')) {
    const checkSchema = options.checkSchema ?? true;
    await waits.database(() => probeDatabase(config.database, { checkSchema }));
  }
  if (needs.includes('kafka')) {
    const kafka = createProbeKafka(config, createLogger({ level: 'silent' }));
    await waits.kafka(() => probeKafka(kafka));
  }
}
