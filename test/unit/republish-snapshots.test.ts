import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type RepublishRun,
  type RepublishStore,
  republishEvent,
  republishSnapshots,
} from '../../src/application/republish-snapshots.ts';
import { parseCustomerUpdated } from '../../src/contracts/customer-updated.ts';
import { emptyCustomerRecord } from '../../src/domain/customer-record.ts';
import type { StoredCustomer } from '../../src/domain/customer-snapshot.ts';

const RUN_ID = '0b3f6c1e-7f0e-4c55-9a0c-6a2f7e3c9d11';

function customer(tenantId: string, externalId: string): StoredCustomer {
  const record = emptyCustomerRecord();
  record.values.firstName = `Name ${externalId}`;
  record.version = 3;
  return {
    tenantId,
    externalId,
    record,
    createdAt: '2026-03-01T10:00:00.000Z',
    updatedAt: '2026-03-02T10:00:00.000Z',
  };
}

/** Customers in key order, a position, an outbox: the store's contract in memory. */
function inMemoryStore(customers: StoredCustomer[], backlogs: number[] = []) {
  const outbox: ReturnType<typeof republishEvent>[] = [];
  let stored: RepublishRun = {
    runId: RUN_ID,
    selection: { tenantId: 'tenant-a' },
    after: undefined,
    published: 0,
    finishedAt: undefined,
  };
  const selected = customers.filter((c) => c.tenantId === 'tenant-a');
  const store: RepublishStore = {
    startOrResume: async () => stored,
    countRemaining: async () => selected.length - stored.published,
    async publishNextPage(run, limit, announce) {
      const page = selected.slice(run.published, run.published + limit);
      outbox.push(...page.map(announce));
      const last = page.at(-1);
      stored = {
        ...run,
        published: run.published + page.length,
        after: last ? { tenantId: last.tenantId, externalId: last.externalId } : run.after,
      };
      return { run: stored, published: page.length };
    },
    finish: async (run) => {
      stored = { ...run, finishedAt: '2026-03-03T00:00:00.000Z' };
      return stored;
    },
    outboxBacklog: async () => backlogs.shift() ?? 0,
  };
  return { store, outbox, run: () => stored };
}

const CUSTOMERS = [
  customer('tenant-a', 'a-1'),
  customer('tenant-a', 'a-2'),
  customer('tenant-a', 'a-3'),
  customer('tenant-b', 'b-1'),
];

describe('republishing snapshots', () => {
  it('announces each chosen customer once, as the contract says, and finishes the run', async () => {
    const { store, outbox, run } = inMemoryStore(CUSTOMERS);
    const report = await republishSnapshots({
      store,
      run: run(),
      batchSize: 2,
      maxOutboxBacklog: 100,
      signal: new AbortController().signal,
      now: () => new Date('2026-03-04T00:00:00Z'),
    });
    assert.equal(report.completed, true);
    assert.equal(report.publishedNow, 3);
    assert.ok(report.run.finishedAt);
    assert.deepEqual(
      outbox.map((event) => event.externalId),
      ['a-1', 'a-2', 'a-3'],
    );
    for (const event of outbox) {
      assert.ok(parseCustomerUpdated(event).ok);
      assert.equal(event.reason, 'republish');
      assert.equal(event.causationId, RUN_ID);
      assert.deepEqual(event.changedFields, []);
      assert.equal(event.customer.version, 3);
    }
  });

  it('gives the same customer the same eventId within a run, and a new one in a new run', () => {
    const a1 = customer('tenant-a', 'a-1');
    const once = republishEvent(RUN_ID, a1, '2026-03-04T00:00:00.000Z');
    const resumed = republishEvent(RUN_ID, a1, '2026-03-05T00:00:00.000Z');
    const otherTenant = republishEvent(RUN_ID, customer('tenant-b', 'a-1'), once.occurredAt);
    const nextRun = republishEvent('5d2c1a8e-3b9f-4f1d-8e7a-2c6b9d0e4f21', a1, once.occurredAt);
    assert.equal(once.eventId, resumed.eventId);
    assert.notEqual(once.eventId, otherTenant.eventId);
    assert.notEqual(once.eventId, nextRun.eventId);
  });

  it('waits while the outbox backlog is high, and stops between batches when interrupted', async () => {
    const { store, outbox, run } = inMemoryStore(CUSTOMERS, [0, 500]);
    const interrupt = new AbortController();
    const waits: string[] = [];
    const report = await republishSnapshots({
      store,
      run: run(),
      batchSize: 1,
      maxOutboxBacklog: 100,
      signal: interrupt.signal,
      onProgress: ({ waiting }) => {
        if (waiting) {
          waits.push(waiting);
          interrupt.abort(); // Ctrl-C while it waits for the relay
        }
      },
    });
    assert.deepEqual(waits, ['waiting for the outbox relay (backlog 500)']);
    assert.equal(report.completed, false);
    assert.equal(report.publishedNow, 1);
    assert.equal(outbox.length, 1);
    assert.equal(report.run.after?.externalId, 'a-1');
    assert.equal(report.run.finishedAt, undefined);
  });
});
