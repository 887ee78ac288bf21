/**
 * `node bench/metadata-history.ts`: what a customer's history of deleted metadata keys costs
 * (README Performance). Applies `--deletes` events that each delete one metadata key never
 * deleted before (a delete-only patch) to one customer, through the real batch apply path and
 * Postgres, then measures the bookkeeping stored on that customer's row and the time of later
 * events on it, against the same events on a customer without that history.
 *
 * Needs Postgres: TEST_DATABASE_URL (a superuser URL; a database of its own is created and
 * dropped).
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createDatabase, databaseUrl, dropDatabase } from '../dev/databases.ts';
import { applyUpdateBatch } from '../src/application/apply-update-batch.ts';
import {
  type CustomerUpdateRequest,
  parseCustomerUpdateRequested,
} from '../src/contracts/customer-update-requested.ts';
import { connectDatabase } from '../src/persistence/database.ts';
import { applyMigrations } from '../src/persistence/migrate.ts';
import { createTenantRepository } from '../src/persistence/tenant-repository.ts';
import { createUpdateBatchStore } from '../src/persistence/update-batch-store.ts';

const { values } = parseArgs({
  options: {
    deletes: { type: 'string', default: '5000' },
    'later-events': { type: 'string', default: '200' },
  },
});
const deletes = Number(values.deletes);
const laterEvents = Number(values['later-events']);
const adminUrl = process.env.TEST_DATABASE_URL;
if (!adminUrl) {
  process.stderr.write('metadata-history: TEST_DATABASE_URL is required (a superuser URL)\n');
  process.exit(78);
}

const start = Date.parse('2026-01-01T00:00:00Z');
let sequence = 0;
function event(externalId: string, metadata: Record<string, unknown>): CustomerUpdateRequest {
  const parsed = parseCustomerUpdateRequested({
    eventId: randomUUID(),
    type: 'customer.update.requested',
    version: 1,
    occurredAt: new Date(start + sequence++ * 1_000).toISOString(),
    tenantId: 'tenant-a',
    externalId,
    data: { taskType: 'collections', metadata },
  });
  if (!parsed.ok) throw new Error(parsed.failure.message);
  return parsed.request;
}

const name = `cs_bench_metadata_${process.pid}`;
await createDatabase(adminUrl, name);
const url = databaseUrl(adminUrl, name);
const database = connectDatabase(url, { poolMax: 2, applicationName: 'bench-metadata-history' });
try {
  await applyMigrations(url);
  await createTenantRepository(database.db).save({
    tenantId: 'tenant-a',
    taskTypes: ['collections'],
  });
  const store = createUpdateBatchStore(database.db);

  // The history: delete-only patches of distinct keys, 500 events per transaction.
  for (let from = 0; from < deletes; from += 500) {
    const chunk = [];
    for (let n = from; n < Math.min(deletes, from + 500); n++)
      chunk.push(event('with-history', { [`key-${n}`]: null }));
    await applyUpdateBatch(store, chunk);
  }
  await applyUpdateBatch(store, [event('without-history', { seed: 1 })]);

  const [size] = await database.sql<{ stored: number; text: number }[]>`
    select pg_column_size(metadata_registers)::int as stored,
           octet_length(metadata_registers::text)::int as text
    from customers where external_id = 'with-history'`;

  async function microsecondsPerEvent(externalId: string): Promise<number> {
    const began = process.hrtime.bigint();
    for (let n = 0; n < laterEvents; n++)
      await applyUpdateBatch(store, [event(externalId, { counter: n })]);
    return Number(process.hrtime.bigint() - began) / 1_000 / laterEvents;
  }
  // Warm both paths first (prepared statements, JIT), then measure each.
  await microsecondsPerEvent('without-history');
  const without = await microsecondsPerEvent('without-history');
  const withHistory = await microsecondsPerEvent('with-history');

  process.stdout.write(
    `${deletes} delete-only events on one customer:\n` +
      `  metadata bookkeeping on its row: ${size?.text ?? '?'} bytes of JSON (${size?.stored ?? '?'} bytes stored)\n` +
      `  a later event (one transaction each, ${laterEvents} events): ` +
      `${withHistory.toFixed(0)} µs on it, ${without.toFixed(0)} µs on a customer without that history\n`,
  );
} finally {
  await database.close();
  await dropDatabase(adminUrl, name);
}
