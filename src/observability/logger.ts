import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger };

/** Customer fields that are personal data (SPEC §8): never written to a log line. */
const PII_FIELDS = [
  'firstName',
  'lastName',
  'email',
  'phone',
  'birthday',
  'ssnLast4',
  'address1',
  'address2',
  'city',
  'zip',
  'first_name',
  'last_name',
  'ssn_last4',
] as const;

/**
 * Our own log calls never pass customer data; redaction is the second line of defence for the
 * day someone logs an event, a row or a snapshot by mistake, at any depth we can foresee.
 */
export const REDACTED_PATHS: string[] = [
  ...PII_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`, `*.*.*.${field}`]),
  'metadata',
  '*.metadata',
  '*.*.metadata',
  'data',
  '*.data',
  'payload',
  '*.payload',
  'value',
  '*.value',
  'password',
  '*.password',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
];

export function createLogger(
  options: { level: string; name?: string },
  destination?: pino.DestinationStream,
): Logger {
  const loggerOptions: LoggerOptions = {
    level: options.level,
    name: options.name ?? 'customer-sync',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(loggerOptions, destination) : pino(loggerOptions);
}
