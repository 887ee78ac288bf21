import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  UpdateBatchStore,
  UpdateBatchTransaction,
} from '../../src/application/apply-update-batch.ts';
import {
  AnnouncedIndexNeeded,
  announcementKey,
  skipAlreadyAnnounced,
} from '../../src/application/skip-already-announced.ts';
import type { CustomerUpdated } from '../../src/contracts/customer-updated.ts';
import { legacyUpdateEventId } from '../../src/domain/event-ids.ts';

const CAUSE = '2f1d6c1e-8a4b-4e1f-9c3d-7b6a5e4d3c2b';
const event = (eventId: string, tenantId = 'tenant-a') =>
  ({
    eventId,
    tenantId,
    externalId: 'c-1',
    causationId: CAUSE,
    reason: 'update',
  }) as CustomerUpdated;
/** What the index holds for an announcement of customer c-1 of `tenantId`. */
const onTopic = (eventId: string, tenantId = 'tenant-a') =>
  announcementKey(`${tenantId}:c-1`, eventId);

function recordingStore() {
  const outbox: string[] = [];
  const transaction = {
    appendToOutbox: async (events: CustomerUpdated[]) => {
      outbox.push(...events.map((announced) => announced.eventId));
    },
  } as unknown as UpdateBatchTransaction;
  const store: UpdateBatchStore = { inTransaction: (work) => work(transaction) };
  return { store, outbox };
}

function index(ids?: string[]) {
  let loaded = ids === undefined ? undefined : new Set(ids);
  return {
    loaded: () => loaded,
    load: async () => {
      loaded = new Set([onTopic('already-1')]);
    },
  };
}

describe('a replay announces each change once', () => {
  it('writes only the changes customer.updated does not carry yet', async () => {
    const { store, outbox } = recordingStore();
    const filter = skipAlreadyAnnounced(store, index([onTopic('already-1')]));
    await filter.store.inTransaction((tx) =>
      tx.appendToOutbox([event('already-1'), event('new-1')]),
    );
    assert.deepEqual(outbox, ['new-1']);
    assert.equal(filter.written(), 1);
    assert.equal(filter.suppressed(), 1);
  });

  it('recognises an update announced before the upgrade under its old id, for its customer only', async () => {
    const { store, outbox } = recordingStore();
    // Before the upgrade, both tenants' announcements of CAUSE would have had this one id.
    const filter = skipAlreadyAnnounced(store, index([onTopic(legacyUpdateEventId(CAUSE))]));
    await filter.store.inTransaction((tx) =>
      tx.appendToOutbox([event('new-a', 'tenant-a'), event('new-b', 'tenant-b')]),
    );
    assert.deepEqual(outbox, ['new-b']);
    assert.equal(filter.suppressed(), 1);
  });

  it('asks for the index (rolling the batch back) the first time something would be announced', async () => {
    const { store, outbox } = recordingStore();
    const filter = skipAlreadyAnnounced(store, index());
    await filter.store.inTransaction((tx) => tx.appendToOutbox([])); // nothing to announce: no need
    const failure = await filter.store
      .inTransaction((tx) => tx.appendToOutbox([event('already-1')]))
      .catch((error: unknown) => error);
    assert.ok(failure instanceof AnnouncedIndexNeeded);
    assert.equal(await filter.prepareForRetry(failure), true);
    assert.equal(await filter.prepareForRetry(new Error('other')), false);
    await filter.store.inTransaction((tx) => tx.appendToOutbox([event('already-1')]));
    assert.deepEqual(outbox, []);
    assert.equal(filter.suppressed(), 1);
  });

  it('counts only what committed', async () => {
    const { store } = recordingStore();
    const filter = skipAlreadyAnnounced(store, index([]));
    await assert.rejects(
      filter.store.inTransaction(async (tx) => {
        await tx.appendToOutbox([event('new-1')]);
        throw new Error('rolled back');
      }),
    );
    assert.equal(filter.written(), 0);
  });
});
