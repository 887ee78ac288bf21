import type { FailureCode } from './contracts/error-codes.ts';

/**
 * The one family of errors the service raises. `canRetry` alone decides what the consumer
 * does with a failure (SPEC §4.4, §4.5): retry with the partition paused, or dead-letter.
 */
export class CustomerSyncError extends Error {
  readonly code: FailureCode;
  readonly canRetry: boolean;

  constructor(code: FailureCode, message: string, options: { canRetry: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'CustomerSyncError';
    this.code = code;
    this.canRetry = options.canRetry;
  }
}

/** Postgres SQLSTATE classes and codes that a later attempt can get past. */
const RETRYABLE_SQLSTATE_PREFIXES = [
  '08',
  // idle_in_transaction_session_timeout, transaction_timeout: the server ended a session
  '25P03',
  '25P04',
  '53',
  '57P',
  '58',
  '40001',
  '40P01',
  '55P03',
  '55006',
  // query_canceled: statement_timeout, or an abandoned attempt's own cancel (prepared-sql.ts)
  '57014',
  'XX',
];
/** postgres.js codes for a connection that failed or went away. */
const RETRYABLE_CLIENT_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);

/**
 * Decides whether a failure is worth retrying. Only the database saying the data itself is
 * wrong (SQLSTATE classes 22 and 23, and the like) makes it final; anything we do not
 * recognise is treated as transient, because skipping an update is the one thing we must not
 * do (SPEC §4.5) and a retry loop shows up on the retries metric.
 */
export function canRetry(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    if (current instanceof CustomerSyncError) return current.canRetry;
    const { code, retriable } = current as { code?: unknown; retriable?: unknown };
    if (typeof retriable === 'boolean' && isKafkaError(current))
      return retriable || isKafkaNetworkError(current);
    if (typeof code === 'string') {
      if (RETRYABLE_CLIENT_CODES.has(code)) return true;
      if (/^[0-9A-Z]{5}$/.test(code))
        return RETRYABLE_SQLSTATE_PREFIXES.some((prefix) => code.startsWith(prefix));
    }
    current = (current as { cause?: unknown }).cause;
  }
  return true;
}

/**
 * The database refusing work because of other work (SPEC §4.5): transient by nature, and
 * worth counting apart, since a steady rate of them means contention to look into.
 */
export type DatabaseConflict =
  | 'deadlock'
  | 'lock_timeout'
  | 'statement_timeout'
  | 'serialization_failure'
  | 'idle_in_transaction_timeout';

export const DATABASE_CONFLICTS: readonly DatabaseConflict[] = [
  'deadlock',
  'lock_timeout',
  'statement_timeout',
  'serialization_failure',
  'idle_in_transaction_timeout',
];

const DATABASE_CONFLICT_SQLSTATES: Record<string, DatabaseConflict> = {
  '40P01': 'deadlock',
  '55P03': 'lock_timeout',
  // statement_timeout, or a cancel: postgres.js words both as query_canceled
  '57014': 'statement_timeout',
  '40001': 'serialization_failure',
  '25P03': 'idle_in_transaction_timeout',
};

/** Which database conflict a failure is, looking through its causes; undefined if none. */
export function databaseConflictOf(error: unknown): DatabaseConflict | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const { code } = current as { code?: unknown };
    if (typeof code === 'string' && Object.hasOwn(DATABASE_CONFLICT_SQLSTATES, code))
      return DATABASE_CONFLICT_SQLSTATES[code];
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function isKafkaError(error: unknown): boolean {
  return (
    typeof (error as { name?: unknown }).name === 'string' &&
    (error as { name: string }).name.startsWith('KafkaJS')
  );
}

function isKafkaNetworkError(error: unknown): boolean {
  const name = (error as { name: string }).name;
  return (
    name === 'KafkaJSConnectionError' ||
    name === 'KafkaJSRequestTimeoutError' ||
    name === 'KafkaJSNumberOfRetriesExceeded'
  );
}

/**
 * A failure's class and code (its own or its cause's), for decisions and progress notes. Logs
 * take the error itself: the logger writes it with the one serializer (error-serializer.ts).
 */
export function describeFailure(error: unknown): { code?: string; kind: string } {
  const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  const anyCode =
    typeof code === 'string' ? code : typeof cause?.code === 'string' ? cause.code : undefined;
  return {
    kind: typeof name === 'string' ? name : typeof error,
    ...(anyCode ? { code: anyCode } : {}),
  };
}
