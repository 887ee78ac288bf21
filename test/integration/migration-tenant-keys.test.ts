import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { createDatabase, databaseUrl, dropDatabase } from '../../dev/databases.ts';
import { applyUpdateBatch } from '../../src/application/apply-update-batch.ts';
import { parseCustomerUpdateRequested } from '../../src/contracts/customer-update-requested.ts';
import { connectDatabase } from '../../src/persistence/database.ts';
import { applyMigrations, MIGRATIONS_FOLDER } from '../../src/persistence/migrate.ts';
import { createUpdateBatchStore } from '../../src/persistence/update-batch-store.ts';
import { registerCleanup } from '../support/cleanup.ts';
import { testInfrastructure, testSql, uniqueName } from '../support/test-environment.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';

/** The migration that keys processed events and outbox rows by tenant (whatever its number). */
const TENANT_KEYS_MIGRATION = /^\d+_tenant_keys_and_bookkeeping$/;

/** A database migrated only as far as release 0.1.0 had it: the old shape of every table. */
async function databaseAtTheOldShape(): Promise<string> {
  const { adminDatabaseUrl } = testInfrastructure();
  const name = uniqueName('cs_test');
  await createDatabase(adminDatabaseUrl, name);
  registerCleanup(() => dropDatabase(adminDatabaseUrl, name));
  const url = databaseUrl(adminDatabaseUrl, name);

  const folder = await mkdtemp(join(tmpdir(), 'customer-sync-old-migrations-'));
  registerCleanup(() => rm(folder, { recursive: true, force: true }));
  await cp(MIGRATIONS_FOLDER, folder, { recursive: true });
  const journalPath = join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(await readFile(journalPath, 'utf8')) as {
    entries: Array<{ tag: string }>;
  };
  const ours = journal.entries.findIndex((entry) => TENANT_KEYS_MIGRATION.test(entry.tag));
  assert.ok(ours > 0, 'the journal has the tenant-keys migration');
  journal.entries = journal.entries.slice(0, ours);
  await writeFile(journalPath, JSON.stringify(journal));

  const sql = testSql(url);
  await migrate(drizzle(sql), { migrationsFolder: folder });
  return url;
}

function parsed(builder: ReturnType<typeof anUpdateRequest>) {
  const result = parseCustomerUpdateRequested(builder.build());
  if (!result.ok) throw new Error(result.failure.message);
  return result.request;
}

describe('the migration to tenant-scoped keys', () => {
  it('keeps every event already seen a duplicate, and lets another tenant use its eventId', async () => {
    const url = await databaseAtTheOldShape();
    const sql = testSql(url);
    const seenEventId = randomUUID();
    const pendingAnnouncementId = randomUUID();
    await sql`
      insert into tenants (tenant_id, task_types)
      values ('tenant-a', '{collections}'), ('tenant-b', '{collections}')`;
    // Old-shape rows: an event of tenant-a already applied (processed_events keyed by event_id
    // alone), and its announcement still waiting in the outbox under a single-tenant id.
    await sql`
      insert into processed_events (event_id, tenant_id, external_id, outcome)
      values (${seenEventId}, 'tenant-a', 'c-1', 'applied')`;
    await sql`
      insert into outbox (event_id, tenant_id, external_id, payload)
      values (${pendingAnnouncementId}, 'tenant-a', 'c-1', '{"reason":"update"}')`;

    await applyMigrations(url);

    const [key] = await sql<{ columns: string }[]>`
      select string_agg(a.attname, ',' order by array_position(i.indkey, a.attnum)) as columns
      from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
      where i.indrelid = 'processed_events'::regclass and i.indisprimary`;
    assert.equal(key?.columns, 'tenant_id,event_id');
    const outbox = await sql<{ event_id: string }[]>`select event_id::text from outbox`;
    assert.deepEqual(
      outbox.map((row) => row.event_id),
      [pendingAnnouncementId],
      'the pending announcement is still there, to be relayed',
    );

    const database = connectDatabase(url, { poolMax: 2 });
    registerCleanup(() => database.close());
    const store = createUpdateBatchStore(database.db);
    const replayed = parsed(
      anUpdateRequest()
        .withTenant('tenant-a')
        .withEventId(seenEventId)
        .withExternalId('c-1')
        .withData({ lastName: 'Replayed' }),
    );
    const otherTenant = parsed(
      anUpdateRequest()
        .withTenant('tenant-b')
        .withEventId(seenEventId)
        .withExternalId('c-1')
        .withData({ lastName: 'Berg' }),
    );
    const result = await applyUpdateBatch(store, [replayed, otherTenant]);
    assert.deepEqual(
      result.outcomes.map((outcome) => outcome.kind),
      ['duplicate', 'applied'],
    );
    const customers = await sql<{ tenant_id: string; last_name: string }[]>`
      select tenant_id, last_name from customers order by tenant_id`;
    assert.deepEqual(
      customers.map((row) => [row.tenant_id, row.last_name]),
      [['tenant-b', 'Berg']],
    );
  });
});
