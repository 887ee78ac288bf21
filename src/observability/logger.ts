import { type Logger, type LoggerOptions, pino } from 'pino';
import { scrubErrorMessage, serializeError } from './error-serializer.ts';
import { redactLogRecord } from './log-redaction.ts';

export type { Logger };

/**
 * The one logger (pino, JSON lines). Every record and every child's bindings pass through
 * redactLogRecord (customer data at any depth, errors through the one serializer), so a log
 * call cannot print personal data by accident (SPEC §8).
 */
export function createLogger(
  options: { level: string; name?: string },
  destination?: pino.DestinationStream,
): Logger {
  const loggerOptions: LoggerOptions = {
    level: options.level,
    name: options.name ?? 'customer-sync',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      bindings: (bindings) => redactLogRecord(bindings),
      log: (record) => redactLogRecord(record),
    },
    serializers: {
      err: (error: unknown) => (error instanceof Error ? serializeError(error) : error),
    },
    hooks: {
      // `logger.error(error)` makes pino take the error's raw message as the line's message.
      logMethod(args, method) {
        const [first, second] = args as unknown[];
        if (first instanceof Error && typeof second !== 'string') {
          return method.call(this, { err: first }, scrubErrorMessage(first.message));
        }
        const err = (first as { err?: unknown } | null)?.err;
        if (typeof first === 'object' && err instanceof Error && typeof second !== 'string') {
          return method.call(this, first as object, scrubErrorMessage(err.message));
        }
        return method.apply(this, args);
      },
    },
  };
  const logger = destination ? pino(loggerOptions, destination) : pino(loggerOptions);
  // pino formats only the root's bindings; a child's go through the same pass here (children
  // of children inherit this, as pino makes each child from its parent).
  const child = logger.child;
  logger.child = function redactedChild(this: Logger, bindings, childOptions) {
    return child.call(this, redactLogRecord(bindings), childOptions);
  } as Logger['child'];
  return logger;
}
