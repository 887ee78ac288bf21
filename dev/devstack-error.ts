/** What kind of local test infrastructure could not be provided; stable, so callers can branch on it. */
export type DevstackErrorCode =
  | 'JAVA_MISSING'
  | 'MAVEN_MISSING'
  | 'KAFKA_VERSION_UNSUPPORTED'
  | 'KAFKA_JARS_FETCH_FAILED'
  | 'KAFKA_START_FAILED'
  | 'KAFKA_UNREACHABLE'
  | 'KAFKA_CONNECT_JARS_FETCH_FAILED'
  | 'KAFKA_CONNECT_START_FAILED'
  | 'POSTGRES_MISSING'
  | 'POSTGRES_START_FAILED'
  | 'POSTGRES_UNREACHABLE'
  | 'SCHEMA_REGISTRY_FETCH_FAILED'
  | 'SCHEMA_REGISTRY_START_FAILED'
  | 'SCHEMA_REGISTRY_UNREACHABLE'
  | 'RUN_AS_USER_UNAVAILABLE'
  | 'INVALID_DATABASE_NAME';

/**
 * Raised when tests, `npm run dev` or benchmarks cannot get a real Kafka, Postgres or Schema
 * Registry. The message says what to install or which variable to set; retrying the same start
 * never helps.
 */
export class DevstackError extends Error {
  readonly code: DevstackErrorCode;

  constructor(code: DevstackErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DevstackError';
    this.code = code;
  }
}
