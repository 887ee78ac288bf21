import { once } from 'node:events';
import { startService } from '../../main.ts';
import { createLogger } from '../../observability/logger.ts';
import { logProcessFailures } from '../../observability/process-failure-handlers.ts';
import { loadCommandConfig } from '../load-command-config.ts';
import { reportKnownFailure } from '../report-failure.ts';
import { parseCommandLine } from '../usage-error.ts';

export const runHelp = `customer-sync run

Runs the service: consumes customer.update.requested, applies updates to Postgres, publishes
customer.updated, serves /healthz /readyz /metrics on HTTP_PORT. Configured by environment
variables (see the README). Stops gracefully on SIGTERM or SIGINT within SHUTDOWN_TIMEOUT_MS.`;

/** Codes of a database connection that went away: the driver reconnects, our loops retry. */
const LOST_CONNECTION_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  'CONNECT_TIMEOUT',
  '57P01', // admin_shutdown: the server is going down
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
]);

function isLostConnection(reason: unknown): boolean {
  const code = (reason as { code?: unknown } | undefined)?.code;
  return (
    typeof code === 'string' && (LOST_CONNECTION_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))
  );
}

/**
 * postgres.js 3.4.9 drops the promise of the query it runs first on every new connection (the
 * array types; porsager/postgres#1192, #1223): should the database go away at that moment, the
 * rejection is unhandled, and Node would end the process in the middle of an outage the
 * service is built to ride out (SPEC §4.5). A lost connection is the driver's and our retry
 * loops' business, so that one is logged; any other unhandled rejection is a bug and ends the
 * process, logged through the logger like every other last-resort failure.
 */
function lostDatabaseConnection(reason: unknown): string | undefined {
  return isLostConnection(reason)
    ? 'a database connection was lost outside any query; the driver reconnects'
    : undefined;
}

export async function runCommand(args: string[]): Promise<number> {
  parseCommandLine(args, {});
  const config = loadCommandConfig(['kafka', 'database']);
  const logger = createLogger({ level: config.logLevel });
  logProcessFailures(logger, { survivable: lostDatabaseConnection });

  // Listening from before start-up, not after it: a signal while the service still connects
  // (Kafka not reachable yet, another replica migrating) must stop what has started and exit 0,
  // not end the process by the signal's default action half-way (SPEC §4.9).
  const stopRequested = new AbortController();
  let running = false;
  const requestStop = (signal: NodeJS.Signals) => {
    if (stopRequested.signal.aborted) return;
    logger.info(
      { signal },
      running
        ? 'shutdown requested'
        : 'shutdown requested during start-up; stopping what has started',
    );
    // SPEC §4.9: a shutdown that overruns its deadline is cut short, and says so.
    const deadline = setTimeout(() => {
      logger.error(
        { timeoutMs: config.shutdownTimeoutMs },
        'graceful shutdown overran its deadline; exiting',
      );
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    stopRequested.abort();
  };
  process.once('SIGTERM', requestStop);
  process.once('SIGINT', requestStop);

  const service = await startService(config, logger, {
    signal: stopRequested.signal,
    onFatal: () => {
      logger.fatal('the Kafka consumer cannot recover; exiting so that the process is restarted');
      process.exit(1);
    },
  }).catch((error: unknown) => {
    if (stopRequested.signal.aborted) {
      // Cut short by the signal; what had started has stopped. Exiting rather than returning:
      // kafkajs keeps retrying a connect that was given up (disconnecting does not stop its
      // retries), and its timers would hold the process open for a minute more.
      process.exit(0);
    }
    // A dependency unreachable past STARTUP_TIMEOUT_MS, or misconfigured: one line on stderr
    // naming it, exit 69 or 78.
    const known = reportKnownFailure(error);
    if (known !== undefined) process.exit(known);
    // One line through the logger, never Node's printer; what had started has stopped.
    logger.fatal({ err: error }, 'customer-sync could not start');
    process.exit(1);
  });
  running = true;

  if (!stopRequested.signal.aborted) await once(stopRequested.signal, 'abort');
  try {
    await service.stop();
    return 0;
  } catch (error) {
    logger.error({ failure: error }, 'graceful shutdown failed');
    return 1;
  }
}
