import { serializeError } from './error-serializer.ts';
import type { Logger } from './logger.ts';

/**
 * The last resort for an error nothing caught: Node's own printer writes the error's message,
 * its properties (a driver error's query parameters) and its stack to stderr unredacted. These
 * handlers write it through the logger instead (one line, the one serializer, stack frames
 * kept for the bug report) and exit with code 1, as Node would.
 */
interface Route {
  logger: Logger;
  /** a rejection that is not a bug (a reason to give the line), else undefined */
  survivable?: (reason: unknown) => string | undefined;
}

let route: Route | undefined;

/** Installs the handlers once; later calls only change where they write. */
export function logProcessFailures(logger: Logger, options: Omit<Route, 'logger'> = {}): void {
  const installed = route !== undefined;
  route = { logger, ...options };
  if (installed) return;
  process.on('uncaughtException', (error) => {
    route?.logger.fatal(
      { err: serializeError(error, { stack: true }) },
      'uncaught exception; exiting',
    );
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    const survivable = route?.survivable?.(reason);
    if (survivable !== undefined) {
      route?.logger.warn({ err: reason }, survivable);
      return;
    }
    route?.logger.fatal(
      { err: serializeError(reason, { stack: true }) },
      'unhandled rejection; exiting',
    );
    process.exit(1);
  });
}
