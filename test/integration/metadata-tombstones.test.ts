/**
 * SPEC §4.3 against a real Postgres: the tombstones of deleted metadata keys live apart from the
 * customer's row (metadata_tombstones), so the row stays the size of the live metadata however
 * many keys were deleted, and an older write of a deleted key still loses, in a replay's dry
 * run too.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { applyUpdateBatch } from '../../src/application/apply-update-batch.ts';
import {
  type CustomerUpdateRequest,
  parseCustomerUpdateRequested,
} from '../../src/contracts/customer-update-requested.ts';
import { connectDatabase } from '../../src/persistence/database.ts';
import { withDryRunUpdateBatchStore } from '../../src/persistence/dry-run-update-batch-store.ts';
import { createTenantRepository } from '../../src/persistence/tenant-repository.ts';
import { createUpdateBatchStore } from '../../src/persistence/update-batch-store.ts';
import { registerCleanup } from '../support/cleanup.ts';
import { createTestDatabase, testSql } from '../support/test-environment.ts';

const DELETED_KEYS = 300;
const at = (second: number) => new Date(Date.UTC(2026, 0, 1) + second * 1_000).toISOString();

function metadataEvent(second: number, metadata: Record<string, unknown>): CustomerUpdateRequest {
  const parsed = parseCustomerUpdateRequested({
    eventId: randomUUID(),
    type: 'customer.update.requested',
    version: 1,
    occurredAt: at(second),
    tenantId: 'tenant-a',
    externalId: 'c-history',
    data: { taskType: 'collections', metadata },
  });
  assert.ok(parsed.ok);
  return parsed.request;
}

describe('metadata tombstones kept apart from the customer (SPEC §4.3)', () => {
  let url: string;
  let sql: ReturnType<typeof testSql>;
  let database: ReturnType<typeof connectDatabase>;

  before(async () => {
    url = await createTestDatabase();
    sql = testSql(url);
    database = connectDatabase(url, { poolMax: 2 });
    registerCleanup(() => database.close());
    await createTenantRepository(database.db).save({
      tenantId: 'tenant-a',
      taskTypes: ['collections'],
    });
    const store = createUpdateBatchStore(database.db);
    await applyUpdateBatch(store, [metadataEvent(0, { tier: 'gold' })]);
    // Delete-only patches of keys that were never set, one per second, 100 per transaction.
    for (let from = 0; from < DELETED_KEYS; from += 100) {
      const chunk = [];
      for (let n = from; n < from + 100; n++)
        chunk.push(metadataEvent(1_000 + n, { [`key-${n}`]: null }));
      await applyUpdateBatch(store, chunk);
    }
  });

  async function customerRow() {
    const [row] = await sql<{ metadata: unknown; registers_bytes: number }[]>`
      select metadata, octet_length(metadata_registers::text)::int as registers_bytes
      from customers where external_id = 'c-history'`;
    assert.ok(row, 'the customer exists');
    return row;
  }

  it('keeps the row the size of the live metadata, and every tombstone apart', async () => {
    const row = await customerRow();
    assert.deepEqual(row.metadata, { tier: 'gold' });
    assert.ok(row.registers_bytes < 500, `registers of ${row.registers_bytes} bytes`);
    const [stored] = await sql<{ count: number }[]>`
      select count(*)::int as count from metadata_tombstones where external_id = 'c-history'`;
    assert.equal(stored?.count, DELETED_KEYS);
  });

  it('lets an older write of a deleted key lose, in a replay’s dry run too, and a newer one win', async () => {
    const older = metadataEvent(1_000 + 7 - 0.5, { 'key-7': 'back from the past' });
    // A dry run needs a connection of its own, with nothing prepared on it yet.
    const dryRunDatabase = connectDatabase(url, { poolMax: 1 });
    registerCleanup(() => dryRunDatabase.close());
    const dryRun = await withDryRunUpdateBatchStore(dryRunDatabase.db, ({ store }) =>
      applyUpdateBatch(store, [older]),
    );
    assert.deepEqual(
      dryRun.outcomes.map((outcome) => outcome.kind),
      ['stale'],
    );

    const store = createUpdateBatchStore(database.db);
    const late = await applyUpdateBatch(store, [older]);
    assert.deepEqual(
      late.outcomes.map((outcome) => outcome.kind),
      ['stale'],
    );
    assert.deepEqual((await customerRow()).metadata, { tier: 'gold' });

    const newer = await applyUpdateBatch(store, [metadataEvent(5_000, { 'key-7': 'set again' })]);
    assert.deepEqual(
      newer.outcomes.map((outcome) => outcome.kind),
      ['applied'],
    );
    assert.deepEqual((await customerRow()).metadata, { 'key-7': 'set again', tier: 'gold' });
  });
});
