import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';

const MINIMAL = {
  KAFKA_BROKERS: 'localhost:9092',
  DATABASE_URL: 'postgres://app@db:5432/customer_sync',
};

function problemsOf(
  env: Record<string, string>,
  needs?: Array<'kafka' | 'database' | 'schemaRegistry'>,
): string[] {
  const result = loadConfig(env, needs);
  assert.equal(result.ok, false, 'expected configuration problems');
  return result.ok ? [] : result.problems;
}

describe('configuration (SPEC §8)', () => {
  it('starts from the two required variables with documented defaults', () => {
    const result = loadConfig(MINIMAL);
    assert.ok(result.ok);
    const { config } = result;
    assert.deepEqual(config.kafka.brokers, ['localhost:9092']);
    assert.equal(config.kafka.groupId, 'customer-sync');
    assert.deepEqual(config.topics, {
      updateRequested: 'customer.update.requested',
      customerUpdated: 'customer.updated',
      deadLetter: 'customer.update.requested.dlq',
    });
    assert.equal(config.http.port, 8080);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.schemaRegistry.url, undefined);
  });

  it("compresses with lz4 and sizes requests and documents by Kafka's defaults unless told otherwise", () => {
    const result = loadConfig(MINIMAL);
    assert.ok(result.ok);
    assert.equal(result.config.kafka.compression, 'lz4');
    assert.equal(result.config.kafka.maxRequestBytes, 1_048_576);
    assert.equal(result.config.customerMaxDocumentBytes, 524_288);
    const chosen = loadConfig({ ...MINIMAL, KAFKA_COMPRESSION: 'zstd' });
    assert.ok(chosen.ok);
    assert.equal(chosen.config.kafka.compression, 'zstd');
  });

  it('refuses an unknown codec, and a document limit that an announcement could not fit', () => {
    assert.deepEqual(problemsOf({ ...MINIMAL, KAFKA_COMPRESSION: 'brotli' }), [
      'KAFKA_COMPRESSION must be one of none, gzip, snappy, lz4, zstd',
    ]);
    assert.deepEqual(
      problemsOf({
        ...MINIMAL,
        KAFKA_MAX_REQUEST_BYTES: '1048576',
        CUSTOMER_MAX_DOCUMENT_BYTES: '800000',
      }),
      [
        'CUSTOMER_MAX_DOCUMENT_BYTES must be at most half of KAFKA_MAX_REQUEST_BYTES, so that an announcement of the document always fits a request',
      ],
    );
    assert.deepEqual(problemsOf({ ...MINIMAL, KAFKA_MAX_REQUEST_BYTES: '1000' }), [
      'KAFKA_MAX_REQUEST_BYTES must be at least 131072',
    ]);
  });

  it('limits every database session: lock, statement and migration timeouts (SPEC §4.5)', () => {
    const defaults = loadConfig(MINIMAL);
    assert.ok(defaults.ok);
    assert.deepEqual(defaults.config.database.timeouts, {
      lockTimeoutMs: 10_000,
      statementTimeoutMs: 30_000,
    });
    assert.equal(defaults.config.database.migrationStatementTimeoutMs, 900_000);
    const set = loadConfig({
      ...MINIMAL,
      DATABASE_LOCK_TIMEOUT_MS: '2000',
      DATABASE_STATEMENT_TIMEOUT_MS: '5000',
      DATABASE_MIGRATION_STATEMENT_TIMEOUT_MS: '0',
    });
    assert.ok(set.ok);
    assert.deepEqual(set.config.database.timeouts, {
      lockTimeoutMs: 2_000,
      statementTimeoutMs: 5_000,
    });
    assert.equal(set.config.database.migrationStatementTimeoutMs, 0);
  });

  it('refuses a lock timeout that the statement timeout would always beat, and non-numbers', () => {
    assert.deepEqual(
      problemsOf({
        ...MINIMAL,
        DATABASE_LOCK_TIMEOUT_MS: '30000',
        DATABASE_STATEMENT_TIMEOUT_MS: '30000',
      }),
      ['DATABASE_LOCK_TIMEOUT_MS must be below DATABASE_STATEMENT_TIMEOUT_MS'],
    );
    assert.deepEqual(problemsOf({ ...MINIMAL, DATABASE_STATEMENT_TIMEOUT_MS: '30s' }), [
      'DATABASE_STATEMENT_TIMEOUT_MS must be a whole number',
    ]);
  });

  it('names each missing required variable on a line of its own', () => {
    assert.deepEqual(problemsOf({}), ['KAFKA_BROKERS is required', 'DATABASE_URL is required']);
  });

  it('asks only for what a command needs', () => {
    assert.ok(loadConfig({ DATABASE_URL: MINIMAL.DATABASE_URL }, ['database']).ok);
  });

  it('reports every bad variable at once, naming it and the rule', () => {
    const problems = problemsOf({
      ...MINIMAL,
      KAFKA_BROKERS: 'no-port-here',
      HTTP_PORT: 'eighty',
      LOG_LEVEL: 'loud',
      KAFKA_SSL: 'maybe',
      SCHEMA_REGISTRY_URL: 'ftp://registry',
    });
    assert.equal(problems.length, 5);
    for (const variable of [
      'KAFKA_BROKERS',
      'HTTP_PORT',
      'LOG_LEVEL',
      'KAFKA_SSL',
      'SCHEMA_REGISTRY_URL',
    ]) {
      assert.ok(
        problems.some((line) => line.startsWith(`${variable} `)),
        variable,
      );
    }
  });

  it('never repeats a bad value, which may be a secret, in its message', () => {
    const problems = problemsOf({ ...MINIMAL, DATABASE_URL: 'mysql://user:s3cret-pass@db/x' });
    assert.equal(problems.length, 1);
    assert.doesNotMatch(problems.join('\n'), /s3cret-pass/);
  });

  it('requires the whole SASL triple once any of it is set', () => {
    const problems = problemsOf({
      ...MINIMAL,
      KAFKA_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
    });
    assert.deepEqual(problems.toSorted(), [
      'KAFKA_SASL_PASSWORD is required when any KAFKA_SASL_* is set',
      'KAFKA_SASL_USERNAME is required when any KAFKA_SASL_* is set',
    ]);
  });

  it('reads the Schema Registry settings, credentials only as a pair', () => {
    const result = loadConfig({
      ...MINIMAL,
      SCHEMA_REGISTRY_URL: 'http://registry:8081',
      SCHEMA_REGISTRY_REQUIRED: 'true',
      SCHEMA_REGISTRY_USERNAME: 'key',
      SCHEMA_REGISTRY_PASSWORD: 'secret',
    });
    assert.ok(result.ok);
    assert.deepEqual(result.config.schemaRegistry, {
      url: 'http://registry:8081',
      required: true,
      timeoutMs: 10_000,
      auth: { username: 'key', password: 'secret' },
    });
    assert.deepEqual(
      problemsOf({
        ...MINIMAL,
        SCHEMA_REGISTRY_URL: 'http://r:8081',
        SCHEMA_REGISTRY_USERNAME: 'key',
      }),
      [
        'SCHEMA_REGISTRY_PASSWORD is required when the other SCHEMA_REGISTRY_USERNAME/PASSWORD is set',
      ],
    );
  });

  it('needs SCHEMA_REGISTRY_URL to require registry encoding, and for the schemas commands', () => {
    assert.deepEqual(problemsOf({ ...MINIMAL, SCHEMA_REGISTRY_REQUIRED: 'true' }), [
      'SCHEMA_REGISTRY_URL is required when SCHEMA_REGISTRY_REQUIRED is true',
    ]);
    assert.deepEqual(problemsOf({}, ['schemaRegistry']), ['SCHEMA_REGISTRY_URL is required']);
  });

  it('waits for unreachable dependencies at start-up for 5 minutes by default, 0 meaning for ever', () => {
    const defaults = loadConfig(MINIMAL);
    assert.ok(defaults.ok);
    assert.equal(defaults.config.startUpTimeoutMs, 300_000);
    const forever = loadConfig({ ...MINIMAL, STARTUP_TIMEOUT_MS: '0' });
    assert.ok(forever.ok);
    assert.equal(forever.config.startUpTimeoutMs, 0);
    assert.deepEqual(problemsOf({ ...MINIMAL, STARTUP_TIMEOUT_MS: '5m' }), [
      'STARTUP_TIMEOUT_MS must be a whole number',
    ]);
  });

  it('treats an empty variable as unset', () => {
    const result = loadConfig({ ...MINIMAL, SCHEMA_REGISTRY_URL: '' });
    assert.ok(result.ok && result.config.schemaRegistry.url === undefined);
  });
});
