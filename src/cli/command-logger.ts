import { pino } from 'pino';
import type { Config } from '../config/config.ts';
import { createLogger, type Logger } from '../observability/logger.ts';

/**
 * The logger of a one-off command: JSON lines on stderr, so that stdout stays the command's
 * own output. Errors only, unless LOG_LEVEL asks for debug or trace: what a command did is
 * its summary, not the per-message warnings the service logs.
 */
export function createCommandLogger(config: Pick<Config, 'logLevel'>, name: string): Logger {
  const verbose = config.logLevel === 'debug' || config.logLevel === 'trace';
  const quiet = config.logLevel === 'fatal' || config.logLevel === 'silent';
  const level = verbose || quiet ? config.logLevel : 'error';
  return createLogger({ level, name: `customer-sync-${name}` }, pino.destination(2));
}
