import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { connectDatabase } from '../../src/persistence/database.ts';
import { executePrepared, executeUnprepared } from '../../src/persistence/prepared-sql.ts';
import { testInfrastructure } from '../support/test-environment.ts';

/** The statements this connection has prepared, as the server sees them. */
const preparedHere = sql`select count(*)::int as count from pg_prepared_statements`;

describe('the batch statements run prepared (docs/performance.md)', () => {
  it('prepares a statement once per connection and reuses it; drizzle`s default prepares nothing', async () => {
    const { adminDatabaseUrl } = testInfrastructure();
    // Inside one transaction every statement runs in the same server session.
    const database = connectDatabase(adminDatabaseUrl, { poolMax: 2 });
    try {
      await database.db.transaction(async (tx) => {
        const before = await executeUnprepared<{ count: number }>(tx, preparedHere);
        const query = (n: number) => sql`select ${JSON.stringify([n])}::json as value`;
        assert.deepEqual([...(await executeUnprepared(tx, query(1)))], [{ value: [1] }]);
        const afterUnprepared = await executeUnprepared<{ count: number }>(tx, preparedHere);
        assert.equal(afterUnprepared[0]?.count, before[0]?.count, 'drizzle prepares nothing');

        assert.deepEqual([...(await executePrepared(tx, query(2)))], [{ value: [2] }]);
        assert.deepEqual([...(await executePrepared(tx, query(3)))], [{ value: [3] }]);
        const afterPrepared = await executeUnprepared<{ count: number }>(tx, preparedHere);
        // Same text, other parameters: one statement, prepared once.
        assert.equal(afterPrepared[0]?.count, (before[0]?.count ?? 0) + 1);
      });
    } finally {
      await database.close();
    }
  });
});
