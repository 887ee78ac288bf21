import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { CustomerPatch } from '../../src/domain/customer-fields.ts';
import { type CustomerRecord, emptyCustomerRecord } from '../../src/domain/customer-record.ts';
import {
  ENRICHABLE_FIELDS,
  type EnrichmentValues,
  fillMissingFields,
} from '../../src/domain/fill-missing-fields.ts';
import {
  type FieldWrite,
  mergeFieldsLastWriterWins,
} from '../../src/domain/merge-last-writer-wins.ts';
import { ENRICHMENT_STAMP, stampOf } from '../../src/domain/stamp.ts';

const at = (second: number) =>
  stampOf(
    `2026-01-01T00:00:${String(second).padStart(2, '0')}.000000000Z`,
    `00000000-0000-4000-8000-${String(second).padStart(12, '0')}`,
  );

const lending: EnrichmentValues = {
  firstName: 'Lending',
  lastName: 'System',
  phone: '+14155550100',
  city: 'Austin',
  doNotCall: false,
};

describe('fillMissingFields (SPEC §6 within the merge rules of §4.3)', () => {
  it('fills the empty fields of a customer no event has described, and bumps the version once', () => {
    const created = mergeFieldsLastWriterWins(emptyCustomerRecord(), {
      stamp: at(1),
      patch: { taskType: 'collections', firstName: 'Ann' },
    }).record;
    const filled = fillMissingFields(created, lending);
    assert.deepEqual(filled.changedFields, ['lastName', 'phone', 'city', 'doNotCall']);
    assert.equal(filled.record.values.firstName, 'Ann');
    assert.equal(filled.record.values.lastName, 'System');
    assert.equal(filled.record.stamps.lastName, ENRICHMENT_STAMP);
    assert.equal(filled.record.version, created.version + 1);
  });

  it('never fills a field an event cleared on purpose', () => {
    const cleared = mergeFieldsLastWriterWins(emptyCustomerRecord(), {
      stamp: at(1),
      patch: { phone: null },
    }).record;
    const filled = fillMissingFields(cleared, lending);
    assert.equal(filled.record.values.phone, null);
    assert.ok(!filled.changedFields.includes('phone'));
  });

  it('lets an event that arrives later win, even one that happened long before', () => {
    const filled = fillMissingFields(emptyCustomerRecord(), lending).record;
    const late = mergeFieldsLastWriterWins(filled, {
      stamp: stampOf('1999-01-01T00:00:00.000000000Z', '00000000-0000-4000-8000-000000000001'),
      patch: { firstName: 'Event' },
    });
    assert.equal(late.record.values.firstName, 'Event');
    assert.deepEqual(late.changedFields, ['firstName']);
    assert.deepEqual(late.staleFields, []);
  });

  it('changes nothing, and keeps the version, when there is nothing left to fill', () => {
    const full = fillMissingFields(emptyCustomerRecord(), lending).record;
    const again = fillMissingFields(full, { ...lending, firstName: 'Other' });
    assert.deepEqual(again.changedFields, []);
    assert.equal(again.record.version, full.version);
    assert.equal(again.record.values.firstName, 'Lending');
  });

  it('leaves taskType, isTest and metadata to the producer', () => {
    const filled = fillMissingFields(emptyCustomerRecord(), {
      ...lending,
      ...({ taskType: 'sales', isTest: true } as object),
    });
    assert.equal(filled.record.values.taskType, null);
    assert.equal(filled.record.values.isTest, null);
    assert.deepEqual(filled.record.metadata, {});
  });

  it('ignores what the lending system does not know (null or absent)', () => {
    const filled = fillMissingFields(emptyCustomerRecord(), { firstName: null, city: 'Austin' });
    assert.deepEqual(filled.changedFields, ['city']);
  });

  describe('property: event values always win, whatever the order of events and enrichment', () => {
    const field = fc.constantFrom(...ENRICHABLE_FIELDS);
    const value = fc.constantFrom('a', 'b', null);
    const patch = fc
      .dictionary(field, value, { maxKeys: 4 })
      .map((entries) => entries as unknown as CustomerPatch);
    const enrichment = fc
      .dictionary(field, fc.constantFrom('L1', 'L2', null), { maxKeys: ENRICHABLE_FIELDS.length })
      .map((entries) => entries as unknown as EnrichmentValues);
    // Distinct stamps per event (the index), shuffled into any arrival order.
    const scenario = fc.array(patch, { maxLength: 6 }).chain((patches) =>
      fc.record({
        writes: fc.shuffledSubarray(
          patches.map((p, index): FieldWrite => ({ stamp: at(index + 1), patch: p })),
          { minLength: patches.length, maxLength: patches.length },
        ),
        enrichment,
        position: fc.nat({ max: patches.length }),
      }),
    );

    function replay(writes: FieldWrite[], found: EnrichmentValues, position: number) {
      let record: CustomerRecord = emptyCustomerRecord();
      writes.forEach((write, index) => {
        if (index === position) record = fillMissingFields(record, found).record;
        record = mergeFieldsLastWriterWins(record, write).record;
      });
      if (position >= writes.length) record = fillMissingFields(record, found).record;
      return record;
    }

    it('matches the model: event-written fields as events alone decide, the rest from enrichment', () => {
      fc.assert(
        fc.property(scenario, ({ writes, enrichment: found, position }) => {
          const eventsOnly = writes.reduce(
            (record, write) => mergeFieldsLastWriterWins(record, write).record,
            emptyCustomerRecord(),
          );
          const actual = replay(writes, found, position);
          for (const name of ENRICHABLE_FIELDS) {
            const written = writes.some((write) => Object.hasOwn(write.patch, name));
            const expected = written ? eventsOnly.values[name] : (found[name] ?? null);
            assert.equal(actual.values[name], expected, name);
          }
        }),
      );
    });

    it('converges: any two orders and positions end in the same values', () => {
      fc.assert(
        fc.property(scenario, fc.nat(), ({ writes, enrichment: found, position }, shift) => {
          const other = [
            ...writes.slice(shift % (writes.length || 1)),
            ...writes.slice(0, shift % (writes.length || 1)),
          ];
          const a = replay(writes, found, position);
          const b = replay(other, found, (position + shift) % (writes.length + 1));
          assert.deepEqual(a.values, b.values);
        }),
      );
    });
  });
});
