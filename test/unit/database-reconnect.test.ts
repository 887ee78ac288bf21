import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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

  it('asks the server to end a transaction left idle, only when told to', async () => {
    const url = 'postgres://customer-sync@127.0.0.1:1/none';
    const service = connectDatabase(url, { idleInTransactionSessionTimeoutMs: 20_000 });
    const plain = connectDatabase(url);
    try {
      assert.equal(service.sql.options.connection.idle_in_transaction_session_timeout, 20_000);
      assert.equal(plain.sql.options.connection.idle_in_transaction_session_timeout, undefined);
    } finally {
      await Promise.all([service.close(), plain.close()]);
    }
  });
});
