import { describeFailure } from '../../errors.ts';
import { startService } from '../../main.ts';
import { createLogger } from '../../observability/logger.ts';
import { loadCommandConfig } from '../load-command-config.ts';
import { parseCommandLine } from '../usage-error.ts';

export const runHelp = `customer-sync run

Runs the service: consumes customer.update.requested, applies updates to Postgres, publishes
customer.updated, serves /healthz /readyz /metrics on HTTP_PORT. Configured by environment
variables (see the README). Stops gracefully on SIGTERM or SIGINT within SHUTDOWN_TIMEOUT_MS.`;

export async function runCommand(args: string[]): Promise<number> {
  parseCommandLine(args, {});
  const config = loadCommandConfig(['kafka', 'database']);
  const logger = createLogger({ level: config.logLevel });
  let stopping: Promise<number> | undefined;
  const service = await startService(config, logger, {
    onFatal: () => {
      logger.fatal('the Kafka consumer cannot recover; exiting so that the process is restarted');
      process.exit(1);
    },
  });

  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      if (stopping) return;
      logger.info({ signal }, 'shutdown requested');
      // SPEC §4.9: a shutdown that overruns its deadline is cut short, and says so.
      const deadline = setTimeout(() => {
        logger.error(
          { timeoutMs: config.shutdownTimeoutMs },
          'graceful shutdown overran its deadline; exiting',
        );
        process.exit(1);
      }, config.shutdownTimeoutMs);
      deadline.unref();
      stopping = service
        .stop()
        .then(() => 0)
        .catch((error: unknown) => {
          logger.error({ failure: describeFailure(error) }, 'graceful shutdown failed');
          return 1;
        });
      stopping.then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
