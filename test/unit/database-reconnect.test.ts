import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DATABASE_TIMEOUT_DEFAULTS } from '../../src/config/config.ts';
import {
  connectDatabase,
  MAX_RECONNECT_DELAY_SECONDS,
  reconnectDelaySeconds,
} from '../../src/persistence/database.ts';

describe('reconnecting to the database after an outage (SPEC §4.5)', () => {
  it('waits at most a few seconds between attempts, however long the outage lasted', () => {
    assert.ok(MAX_RECONNECT_DELAY_SECONDS <= 3);
    for (let failures = 0; failures <= 100; failures++) {
      for (const random of [() => 0, () => 0.5, () => 0.999_999]) {
        const delay = reconnectDelaySeconds(failures, random);
        assert.ok(delay > 0 && delay <= MAX_RECONNECT_DELAY_SECONDS, `${failures}: ${delay} s`);
      }
    }
  });

  it('still backs off with jitter: soon after a first failure, later after many', () => {
    assert.ok(reconnectDelaySeconds(1, () => 0.999_999) < 0.05);
    assert.equal(
      reconnectDelaySeconds(20, () => 0),
      MAX_RECONNECT_DELAY_SECONDS / 2,
    );
    assert.ok(reconnectDelaySeconds(20, () => 0.999_999) > MAX_RECONNECT_DELAY_SECONDS * 0.99);
  });

  it('is the backoff of the service database pool', async () => {
    // postgres.js connects lazily: nothing listens on port 1, and nothing tries to.
    const database = connectDatabase('postgres://customer-sync@127.0.0.1:1/none');
    try {
      assert.equal(database.sql.options.backoff, reconnectDelaySeconds);
    } finally {
      await database.close();
    }
  });

  it('asks the server for lock, statement and idle-in-transaction limits on every pool', async () => {
    const url = 'postgres://customer-sync@127.0.0.1:1/none';
    const configured = connectDatabase(url, {
      timeouts: { lockTimeoutMs: 2_000, statementTimeoutMs: 7_000 },
    });
    const plain = connectDatabase(url);
    try {
      const { connection } = configured.sql.options;
      assert.equal(connection.lock_timeout, 2_000);
      assert.equal(connection.statement_timeout, 7_000);
      assert.equal(connection.idle_in_transaction_session_timeout, 20_000);
      assert.deepEqual(
        [plain.sql.options.connection.lock_timeout, plain.sql.options.connection.statement_timeout],
        [DATABASE_TIMEOUT_DEFAULTS.lockTimeoutMs, DATABASE_TIMEOUT_DEFAULTS.statementTimeoutMs],
      );
    } finally {
      await Promise.all([configured.close(), plain.close()]);
    }
  });
});
