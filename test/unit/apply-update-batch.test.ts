import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyUpdateBatch,
  type ProcessedEvent,
  type UpdateBatchStore,
  type UpdateBatchTransaction,
} from '../../src/application/apply-update-batch.ts';
import {
  type CustomerUpdateRequest,
  parseCustomerUpdateRequested,
} from '../../src/contracts/customer-update-requested.ts';
import type { CustomerUpdated } from '../../src/contracts/customer-updated.ts';
import { customerDocumentBytes } from '../../src/contracts/customer-updated-event.ts';
import { customerKeyId } from '../../src/domain/customer-key.ts';
import { growsPastDocumentLimit, type StoredCustomer } from '../../src/domain/customer-snapshot.ts';
import type { MetadataTombstones } from '../../src/domain/metadata-registers.ts';
import { tenantEventKey } from '../../src/domain/tenant-event-key.ts';
import { anUpdateRequest, type UpdateRequestBuilder } from '../support/update-request-builder.ts';

/**
 * The use case against an in-memory implementation of its own port: what the transaction is
 * asked to store. The SQL behind the port is tested against the real Postgres elsewhere.
 */
function inMemoryStore(taskTypes: Record<string, string[]> = { 'tenant-a': ['collections'] }) {
  const customers = new Map<string, StoredCustomer>();
  const processed = new Map<string, ProcessedEvent>();
  const outbox: CustomerUpdated[] = [];
  const enrichment: CustomerUpdateRequest[] = [];
  const tombstones = new Map<string, MetadataTombstones>();
  const transaction: UpdateBatchTransaction = {
    lockCustomers: async () => {},
    findTenants: async (ids) =>
      new Map(
        ids
          .filter((id) => taskTypes[id])
          .map((id) => [id, { tenantId: id, taskTypes: taskTypes[id] ?? [] }]),
      ),
    findProcessedEvents: async (events) =>
      new Set(events.map(tenantEventKey).filter((key) => processed.has(key))),
    loadCustomers: async (keys) =>
      new Map(
        keys.flatMap((key) => {
          const found = customers.get(customerKeyId(key));
          return found ? [[customerKeyId(key), structuredClone(found)] as const] : [];
        }),
      ),
    saveCustomers: async (saved) => {
      for (const customer of saved)
        customers.set(customerKeyId(customer), structuredClone(customer));
    },
    recordProcessedEvents: async (events) => {
      for (const event of events) processed.set(tenantEventKey(event), event);
    },
    appendToOutbox: async (events) => {
      outbox.push(...events);
    },
    findMetadataTombstones: async (paths) =>
      new Map(
        paths.map((customer) => {
          const stored = tombstones.get(customerKeyId(customer)) ?? {};
          return [
            customerKeyId(customer),
            Object.fromEntries(
              customer.paths.flatMap((path) => (stored[path] ? [[path, stored[path]]] : [])),
            ) as MetadataTombstones,
          ];
        }),
      ),
    saveMetadataTombstones: async (saved) => {
      for (const customer of saved) {
        const stored = tombstones.get(customerKeyId(customer)) ?? {};
        for (const [path, stamp] of Object.entries(customer.tombstones))
          if (stored[path] === undefined || stamp > (stored[path] as string)) stored[path] = stamp;
        tombstones.set(customerKeyId(customer), stored);
      }
    },
    requestEnrichment: async (requests) => {
      enrichment.push(...requests);
    },
  };
  const store: UpdateBatchStore = { inTransaction: (work) => work(transaction) };
  return { store, customers, processed, outbox, enrichment, tombstones };
}

function request(builder: UpdateRequestBuilder): CustomerUpdateRequest {
  const parsed = parseCustomerUpdateRequested(builder.build());
  if (!parsed.ok) throw new Error(parsed.failure.message);
  return parsed.request;
}

const NOW = () => new Date('2026-02-01T12:00:00.000Z');

describe('applyUpdateBatch', () => {
  it('asks for its locks and its reads at once, the locks first (one round trip)', async () => {
    const memory = inMemoryStore();
    const asked: string[] = [];
    let grantLocks = () => {};
    const locksGranted = new Promise<void>((resolve) => {
      grantLocks = resolve;
    });
    /** `method`, noting in `asked` when it is called */
    const noted =
      <A extends unknown[], R>(name: string, method: (...args: A) => R) =>
      (...args: A): R => {
        asked.push(name);
        return method(...args);
      };
    const watched: UpdateBatchStore = {
      inTransaction: (work) =>
        memory.store.inTransaction((transaction) =>
          work({
            ...transaction,
            lockCustomers: async (keys) => {
              asked.push('lockCustomers');
              await locksGranted;
              return transaction.lockCustomers(keys);
            },
            findTenants: noted('findTenants', transaction.findTenants),
            findProcessedEvents: noted('findProcessedEvents', transaction.findProcessedEvents),
            loadCustomers: noted('loadCustomers', transaction.loadCustomers),
            saveCustomers: noted('saveCustomers', transaction.saveCustomers),
          }),
        ),
    };
    const applying = applyUpdateBatch(
      watched,
      [request(anUpdateRequest().withData({ firstName: 'Ann' }))],
      { now: NOW },
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(asked, [
      'lockCustomers',
      'findTenants',
      'findProcessedEvents',
      'loadCustomers',
    ]);
    grantLocks();
    await applying;
    assert.equal(asked.at(-1), 'saveCustomers');
  });

  it("fails with the locks' own failure when they are refused (the reads fail after it)", async () => {
    const memory = inMemoryStore();
    const refused = new Error('lock timeout');
    const store: UpdateBatchStore = {
      inTransaction: (work) =>
        memory.store.inTransaction((transaction) =>
          work({
            ...transaction,
            lockCustomers: () => Promise.reject(refused),
            loadCustomers: async () => {
              await new Promise((resolve) => setImmediate(resolve));
              throw new Error('current transaction is aborted');
            },
          }),
        ),
    };
    await assert.rejects(
      applyUpdateBatch(store, [request(anUpdateRequest())], { now: NOW }),
      (error) => error === refused,
    );
    assert.equal(memory.outbox.length, 0);
  });

  it('creates a customer and announces it once with the changed fields and version 1', async () => {
    const memory = inMemoryStore();
    const create = request(anUpdateRequest().withExternalId('c-1').withData({ firstName: 'Ann' }));
    const result = await applyUpdateBatch(memory.store, [create], { now: NOW });
    assert.deepEqual(
      result.outcomes.map((outcome) => outcome.kind),
      ['applied'],
    );
    assert.equal(memory.outbox.length, 1);
    const [announced] = memory.outbox;
    assert.equal(announced?.causationId, create.eventId);
    assert.equal(announced?.reason, 'update');
    assert.deepEqual(announced?.changedFields, ['taskType', 'firstName']);
    assert.equal(announced?.customer.version, 1);
    assert.equal(announced?.customer.createdAt, '2026-02-01T12:00:00.000Z');
  });

  it('keeps the tombstone of a deleted metadata key apart; an older write of the key still loses', async () => {
    const memory = inMemoryStore();
    const at = (second: number) => `2026-01-01T00:00:0${second}Z`;
    await applyUpdateBatch(
      memory.store,
      [
        request(anUpdateRequest().occurredAt(at(1)).withMetadata({ tier: 'gold', keep: 1 })),
        request(anUpdateRequest().occurredAt(at(3)).withMetadata({ tier: null })),
      ],
      { now: NOW },
    );
    const stored = memory.customers.get(
      customerKeyId({ tenantId: 'tenant-a', externalId: 'customer-1' }),
    );
    assert.deepEqual(Object.keys(stored?.record.metadataRegisters ?? {}).sort(), [
      '["keep"]',
      '[]',
    ]);
    assert.deepEqual(Object.keys([...memory.tombstones.values()][0] ?? {}), ['["tier"]']);

    // In a later batch, a write of the deleted key that is older than the delete arrives.
    const late = await applyUpdateBatch(
      memory.store,
      [request(anUpdateRequest().occurredAt(at(2)).withMetadata({ tier: 'silver' }))],
      { now: NOW },
    );
    assert.deepEqual(
      late.outcomes.map((outcome) => outcome.kind),
      ['stale'],
    );
    const after = memory.customers.get(
      customerKeyId({ tenantId: 'tenant-a', externalId: 'customer-1' }),
    );
    assert.deepEqual(after?.record.metadata, { keep: 1 });
  });

  it('treats the same eventId twice in one batch as one event', async () => {
    const memory = inMemoryStore();
    const once = request(anUpdateRequest().withData({ lastName: 'Lee' }));
    const result = await applyUpdateBatch(memory.store, [once, once], { now: NOW });
    assert.deepEqual(
      result.outcomes.map((outcome) => outcome.kind),
      ['applied', 'duplicate'],
    );
    assert.equal(memory.outbox.length, 1);
  });

  it('applies the same eventId from two tenants to both and announces two eventIds (SPEC §4.7)', async () => {
    const memory = inMemoryStore({ 'tenant-a': ['collections'], 'tenant-b': ['collections'] });
    const eventId = '0b5f3e0e-7a1c-4f6e-9d2a-5c8e1f4b7a90';
    const ofTenant = (tenant: string) =>
      request(
        anUpdateRequest()
          .withTenant(tenant)
          .withEventId(eventId)
          .withExternalId('c-1')
          .withData({ lastName: tenant }),
      );
    const first = await applyUpdateBatch(memory.store, [ofTenant('tenant-a')], { now: NOW });
    const second = await applyUpdateBatch(memory.store, [ofTenant('tenant-b')], { now: NOW });
    assert.deepEqual(
      [...first.outcomes, ...second.outcomes].map((outcome) => outcome.kind),
      ['applied', 'applied'],
    );
    assert.equal(new Set(memory.outbox.map((event) => event.eventId)).size, 2);
    assert.deepEqual(
      memory.outbox.map((event) => [event.tenantId, event.causationId]),
      [
        ['tenant-a', eventId],
        ['tenant-b', eventId],
      ],
    );
  });

  it('announces each change of a customer in a batch with its own version, in order', async () => {
    const memory = inMemoryStore();
    await applyUpdateBatch(
      memory.store,
      [
        request(
          anUpdateRequest().occurredAt('2026-01-01T00:00:00Z').withData({ firstName: 'Ann' }),
        ),
        request(
          anUpdateRequest().occurredAt('2026-01-01T00:00:01Z').withData({ firstName: 'Bea' }),
        ),
      ],
      { now: NOW },
    );
    assert.deepEqual(
      memory.outbox.map((event) => [event.customer.version, event.customer.firstName]),
      [
        [1, 'Ann'],
        [2, 'Bea'],
      ],
    );
  });

  it('rejects an unknown tenant and a disallowed task type without recording them as processed', async () => {
    const memory = inMemoryStore();
    const unknownTenant = request(anUpdateRequest().withTenant('tenant-z'));
    const wrongType = request(anUpdateRequest().withData({ taskType: 'sales' }));
    const result = await applyUpdateBatch(memory.store, [unknownTenant, wrongType], { now: NOW });
    assert.deepEqual(
      result.outcomes.map((outcome) =>
        outcome.kind === 'rejected' ? outcome.failure.code : outcome.kind,
      ),
      ['tenant.unknown', 'tenant.task_type_not_allowed'],
    );
    assert.equal(memory.processed.size, 0, 'a redrive after the fix must apply them');
    assert.equal(memory.customers.size, 0);
  });

  it('records each event with its occurredAt, source and the fields it lost as stale (for explain)', async () => {
    const memory = inMemoryStore();
    const newer = request(
      anUpdateRequest()
        .occurredAt('2026-01-02T00:00:00Z')
        .withSource('dialer-portal')
        .withData({ doNotCall: true }),
    );
    const lateAndPartlyStale = request(
      anUpdateRequest()
        .occurredAt('2026-01-01T00:00:00.5Z')
        .withSource('legacy-batch')
        .withData({ doNotCall: false, city: 'Springfield' }),
    );
    const lateAndWhollyStale = request(
      anUpdateRequest().occurredAt('2026-01-01T00:00:00Z').withData({ doNotCall: false }),
    );
    await applyUpdateBatch(memory.store, [newer, lateAndPartlyStale, lateAndWhollyStale], {
      now: NOW,
    });
    const recorded = (event: CustomerUpdateRequest) => {
      const { outcome, occurredAt, source, staleFields } =
        memory.processed.get(tenantEventKey(event)) ?? {};
      return { outcome, occurredAt, source, staleFields };
    };
    assert.deepEqual(recorded(newer), {
      outcome: 'applied',
      occurredAt: '2026-01-02T00:00:00.000000000Z',
      source: 'dialer-portal',
      staleFields: [],
    });
    assert.deepEqual(recorded(lateAndPartlyStale), {
      outcome: 'applied',
      occurredAt: '2026-01-01T00:00:00.500000000Z',
      source: 'legacy-batch',
      staleFields: ['taskType', 'doNotCall'],
    });
    assert.deepEqual(recorded(lateAndWhollyStale), {
      outcome: 'stale',
      occurredAt: '2026-01-01T00:00:00.000000000Z',
      source: undefined,
      staleFields: ['taskType', 'doNotCall'],
    });
  });

  it('stores moved stamps even when no value changes, and announces nothing', async () => {
    const memory = inMemoryStore();
    await applyUpdateBatch(
      memory.store,
      [request(anUpdateRequest().occurredAt('2026-01-01T00:00:00Z').withData({ doNotCall: true }))],
      { now: NOW },
    );
    const same = request(
      anUpdateRequest().occurredAt('2026-01-02T00:00:00Z').withData({ doNotCall: true }),
    );
    const result = await applyUpdateBatch(memory.store, [same], { now: NOW });
    assert.deepEqual(
      result.outcomes.map((outcome) => outcome.kind),
      ['unchanged'],
    );
    assert.equal(memory.outbox.length, 1);
    const stored = [...memory.customers.values()][0];
    assert.match(stored?.record.stamps.doNotCall ?? '', /^2026-01-02/);

    const late = request(
      anUpdateRequest().occurredAt('2026-01-01T12:00:00Z').withData({ doNotCall: false }),
    );
    const lateResult = await applyUpdateBatch(memory.store, [late], { now: NOW });
    assert.equal(lateResult.outcomes[0]?.kind, 'stale');
    assert.equal([...memory.customers.values()][0]?.record.values.doNotCall, true);
  });

  it('asks for enrichment only for new requests that want it', async () => {
    const memory = inMemoryStore();
    const wants = request(anUpdateRequest().withExternalId('c-2').withData({ enrich: true }));
    const loans = request(
      anUpdateRequest()
        .withExternalId('c-3')
        .withData({ loanIds: [7] }),
    );
    const plain = request(anUpdateRequest().withExternalId('c-4'));
    await applyUpdateBatch(memory.store, [wants, loans, plain], { now: NOW });
    await applyUpdateBatch(memory.store, [wants], { now: NOW });
    assert.deepEqual(
      memory.enrichment.map((r) => r.externalId),
      ['c-2', 'c-3'],
    );
  });

  it('throws rather than commits once its attempt was abandoned mid-transaction', async () => {
    const memory = inMemoryStore();
    const abandon = new AbortController();
    const reason = new Error('abandoned');
    let committed = false;
    const store: UpdateBatchStore = {
      async inTransaction(work) {
        const result = await memory.store.inTransaction((transaction) =>
          work({
            ...transaction,
            appendToOutbox: async (events) => {
              abandon.abort(reason); // the deadline passes while the writes are under way
              await transaction.appendToOutbox(events);
            },
          }),
        );
        committed = true; // a real store commits when `work` resolves
        return result;
      },
    };
    const update = request(anUpdateRequest().withData({ lastName: 'Lee' }));
    await assert.rejects(
      applyUpdateBatch(store, [update], { now: NOW, signal: abandon.signal }),
      reason,
    );
    assert.equal(committed, false);
  });

  it('starts no transaction for an attempt already abandoned', async () => {
    let started = false;
    const store: UpdateBatchStore = {
      inTransaction: async () => {
        started = true;
        throw new Error('unreachable');
      },
    };
    const update = request(anUpdateRequest().withData({ lastName: 'Lee' }));
    await assert.rejects(
      applyUpdateBatch(store, [update], { signal: AbortSignal.abort(new Error('abandoned')) }),
      /abandoned/,
    );
    assert.equal(started, false);
  });
});

describe('the size limit of a customer document (CUSTOMER_MAX_DOCUMENT_BYTES)', () => {
  const LIMIT = 65_536;
  /** a metadata patch of about 15 KB under a key of its own */
  const bigPatch = (key: string) => ({ [key]: 'x'.repeat(15_000) });

  it('dead-letters the event that would grow a customer past the limit and keeps its state, while the rest of the batch applies', async () => {
    const memory = inMemoryStore();
    const patches = Array.from({ length: 6 }, (_, index) =>
      request(
        anUpdateRequest()
          .withExternalId('c-big')
          .withMetadata(bigPatch(`k${index}`)),
      ),
    );
    const other = request(anUpdateRequest().withExternalId('c-other').withData({ city: 'Reno' }));
    const result = await applyUpdateBatch(memory.store, [...patches, other], {
      now: NOW,
      maxDocumentBytes: LIMIT,
    });

    const kinds = result.outcomes.map((outcome) => outcome.kind);
    // 4 × 15 KB fit in 64 KiB, the fifth would not, nor would the sixth
    assert.deepEqual(kinds, [
      'applied',
      'applied',
      'applied',
      'applied',
      'rejected',
      'rejected',
      'applied',
    ]);
    const rejected = result.outcomes[4];
    assert.equal(
      rejected?.kind === 'rejected' && rejected.failure.code,
      'customer.document_too_large',
    );
    assert.equal(rejected?.kind === 'rejected' && rejected.failure.path, 'data.metadata');
    const stored = memory.customers.get(
      customerKeyId({ tenantId: 'tenant-a', externalId: 'c-big' }),
    );
    assert.deepEqual(Object.keys(stored?.record.metadata ?? {}), ['k0', 'k1', 'k2', 'k3']);
    assert.ok(customerDocumentBytes(stored as StoredCustomer) <= LIMIT);
    // the rejected events are not recorded as processed: a redrive after a fix applies them
    assert.equal(memory.processed.has(patches[4]?.eventId ?? ''), false);
    assert.equal(memory.outbox.length, 5);
  });

  it('applies a change that shrinks a document already past the limit', async () => {
    const memory = inMemoryStore();
    const grow = Array.from({ length: 6 }, (_, index) =>
      request(
        anUpdateRequest()
          .withExternalId('c-1')
          .withMetadata(bigPatch(`k${index}`)),
      ),
    );
    await applyUpdateBatch(memory.store, grow, { now: NOW });
    const shrink = request(anUpdateRequest().withExternalId('c-1').withMetadata({ k0: null }));
    const [outcome] = (
      await applyUpdateBatch(memory.store, [shrink], { now: NOW, maxDocumentBytes: LIMIT })
    ).outcomes;
    assert.equal(outcome?.kind, 'applied');
  });

  it('judges the size of the document the announcement carries', () => {
    assert.equal(growsPastDocumentLimit(100, 101, 100), true);
    assert.equal(growsPastDocumentLimit(100, 100, 100), false);
    assert.equal(growsPastDocumentLimit(200, 150, 100), false);
    assert.equal(growsPastDocumentLimit(200, 201, 100), true);
  });
});
