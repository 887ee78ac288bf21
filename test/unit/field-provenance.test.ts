import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CustomerPatch, JsonObject } from '../../src/domain/customer-fields.ts';
import { type CustomerRecord, emptyCustomerRecord } from '../../src/domain/customer-record.ts';
import { fieldProvenance, metadataProvenance } from '../../src/domain/field-provenance.ts';
import { fillMissingFields } from '../../src/domain/fill-missing-fields.ts';
import { mergeFieldsLastWriterWins } from '../../src/domain/merge-last-writer-wins.ts';
import { readableOccurredAt } from '../../src/domain/occurred-at.ts';
import { ENRICHMENT_STAMP, stampOf, stampOrigin } from '../../src/domain/stamp.ts';

const eventAt = (second: number) => ({
  occurredAt: `2026-01-01T00:00:${String(second).padStart(2, '0')}.000000000Z`,
  eventId: `00000000-0000-4000-8000-${String(second).padStart(12, '0')}`,
});
const stampAt = (second: number) => {
  const { occurredAt, eventId } = eventAt(second);
  return stampOf(occurredAt, eventId);
};

function apply(
  record: CustomerRecord,
  second: number,
  patch: CustomerPatch,
  metadataPatch?: JsonObject | null,
): CustomerRecord {
  return mergeFieldsLastWriterWins(record, {
    stamp: stampAt(second),
    patch,
    ...(metadataPatch !== undefined ? { metadataPatch } : {}),
  }).record;
}

const byField = (record: CustomerRecord) =>
  new Map(fieldProvenance(record).map((entry) => [entry.field, entry]));

describe('stampOrigin', () => {
  it('reads the occurredAt and eventId back out of an event stamp', () => {
    assert.deepEqual(stampOrigin(stampAt(7)), { kind: 'event', ...eventAt(7) });
  });

  it('recognises the enrichment stamp', () => {
    assert.deepEqual(stampOrigin(ENRICHMENT_STAMP), { kind: 'enrichment' });
  });
});

describe('fieldProvenance: who set each field (SPEC §4.3 stamps)', () => {
  it('names the event in the stamp, not the one that came last, when a late event loses', () => {
    let record = apply(emptyCustomerRecord(), 5, { taskType: 'collections', doNotCall: true });
    record = apply(record, 2, { doNotCall: false }); // older: skipped
    const doNotCall = byField(record).get('doNotCall');
    assert.deepEqual(doNotCall, {
      field: 'doNotCall',
      hasValue: true,
      value: true,
      lastWrite: { kind: 'event', ...eventAt(5) },
    });
  });

  it('tells a cleared field (written, holds nothing) from one never written', () => {
    let record = apply(emptyCustomerRecord(), 1, { taskType: 'collections', email: 'a@b.example' });
    record = apply(record, 2, { email: null });
    const fields = byField(record);
    assert.deepEqual(fields.get('email')?.hasValue, false);
    assert.deepEqual(fields.get('email')?.lastWrite, { kind: 'event', ...eventAt(2) });
    assert.deepEqual(fields.get('phone'), {
      field: 'phone',
      hasValue: false,
      value: null,
      lastWrite: { kind: 'never' },
    });
  });

  it('names enrichment for a field the lending system filled, and the event that overwrote it after', () => {
    let record = apply(emptyCustomerRecord(), 1, { taskType: 'collections' });
    record = fillMissingFields(record, { city: 'Austin', lastName: 'Lee' }).record;
    record = apply(record, 0, { city: 'Springfield' }); // any event beats enrichment
    const fields = byField(record);
    assert.deepEqual(fields.get('lastName')?.lastWrite, { kind: 'enrichment' });
    assert.deepEqual(fields.get('city')?.lastWrite, { kind: 'event', ...eventAt(0) });
  });

  it('moves the last write to an event that wrote the value the field already had', () => {
    let record = apply(emptyCustomerRecord(), 1, { taskType: 'collections', doNotCall: true });
    record = apply(record, 3, { doNotCall: true });
    assert.deepEqual(byField(record).get('doNotCall')?.lastWrite, {
      kind: 'event',
      ...eventAt(3),
    });
  });
});

describe('metadataProvenance: who set each metadata key (RFC 7396 registers)', () => {
  it('names the writer of every key, of deletions, and of the document as a whole', () => {
    let record = apply(
      emptyCustomerRecord(),
      1,
      { taskType: 'collections' },
      {
        tier: 'gold',
        old: 1,
        address: { city: 'x', zip: 'y' },
      },
    );
    // The deletion of `old` leaves a tombstone, which the store keeps apart from the record.
    const deleting = mergeFieldsLastWriterWins(record, {
      stamp: stampAt(3),
      patch: {},
      metadataPatch: { tier: 'silver', old: null, address: { zip: 'z' } },
    });
    record = deleting.record;
    const provenance = metadataProvenance(
      record.metadataRegisters,
      record.metadata,
      deleting.metadataTombstones,
    );
    assert.equal(provenance.hasValue, true);
    assert.deepEqual(provenance.lastWrite, { kind: 'event', ...eventAt(3) });
    assert.equal(provenance.lastCleared, undefined);
    assert.deepEqual(
      provenance.keys.map((key) => [key.path.join('.'), key.state, key.hasValue, key.lastWrite]),
      [
        ['address', 'object', true, { kind: 'event', ...eventAt(3) }],
        ['address.city', 'value', true, { kind: 'event', ...eventAt(1) }],
        ['address.zip', 'value', true, { kind: 'event', ...eventAt(3) }],
        ['old', 'deleted', false, { kind: 'event', ...eventAt(3) }],
        ['tier', 'value', true, { kind: 'event', ...eventAt(3) }],
      ],
    );
    assert.deepEqual(provenance.keys.find((key) => key.path[0] === 'tier')?.value, 'silver');
  });

  it('names the clear (metadata: null) and shows nothing from before it', () => {
    let record = apply(emptyCustomerRecord(), 1, { taskType: 'collections' }, { tier: 'gold' });
    record = apply(record, 2, {}, null);
    record = apply(record, 4, {}, { note: 'called back' });
    const provenance = metadataProvenance(record.metadataRegisters, record.metadata);
    assert.deepEqual(provenance.lastCleared, { kind: 'event', ...eventAt(2) });
    assert.deepEqual(
      provenance.keys.map((key) => key.path.join('.')),
      ['note'],
    );
  });

  it('says metadata was never written when no patch touched it', () => {
    const record = apply(emptyCustomerRecord(), 1, { taskType: 'collections' });
    const provenance = metadataProvenance(record.metadataRegisters, record.metadata);
    assert.deepEqual(provenance, {
      hasValue: false,
      value: {},
      lastWrite: { kind: 'never' },
      lastCleared: undefined,
      keys: [],
    });
  });
});

describe('readableOccurredAt', () => {
  it('shows milliseconds, and more digits only when the event carried them', () => {
    assert.equal(readableOccurredAt('2026-03-01T10:00:00.120000000Z'), '2026-03-01T10:00:00.120Z');
    assert.equal(
      readableOccurredAt('2026-03-01T10:00:00.123456000Z'),
      '2026-03-01T10:00:00.123456Z',
    );
    assert.equal(
      readableOccurredAt('2026-03-01T10:00:00.123456789Z'),
      '2026-03-01T10:00:00.123456789Z',
    );
  });
});
