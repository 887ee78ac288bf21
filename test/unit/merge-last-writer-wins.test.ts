import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { CustomerPatch, JsonObject, JsonValue } from '../../src/domain/customer-fields.ts';
import { type CustomerRecord, emptyCustomerRecord } from '../../src/domain/customer-record.ts';
import {
  type FieldWrite,
  mergeFieldsLastWriterWins,
} from '../../src/domain/merge-last-writer-wins.ts';
import {
  applyMetadataPatch,
  foldTombstones,
  type MetadataRegisters,
  type MetadataTombstones,
  materialiseMetadata,
  metadataPatchPaths,
} from '../../src/domain/metadata-registers.ts';
import { type Stamp, stampOf } from '../../src/domain/stamp.ts';

const at = (
  second: number,
  eventId = `00000000-0000-4000-8000-${String(second).padStart(12, '0')}`,
) => stampOf(`2026-01-01T00:00:${String(second).padStart(2, '0')}.000000000Z`, eventId);

/**
 * Applies the writes in the order given, as the batch store does: each write gets the stored
 * tombstones of the metadata paths it patches, and the tombstones it hands out are stored
 * apart from the record, the greater stamp winning.
 */
function replay(writes: FieldWrite[], start: CustomerRecord = emptyCustomerRecord()) {
  const tombstones: MetadataTombstones = {};
  let record = start;
  for (const write of writes) {
    const paths = write.metadataPatch === undefined ? [] : metadataPatchPaths(write.metadataPatch);
    const stored = Object.fromEntries(
      paths.flatMap((path) => (tombstones[path] ? [[path, tombstones[path]]] : [])),
    ) as MetadataTombstones;
    const merged = mergeFieldsLastWriterWins(record, write, stored);
    for (const [path, stamp] of Object.entries(merged.metadataTombstones)) {
      const before = tombstones[path];
      if (before === undefined || stamp > before) tombstones[path] = stamp;
    }
    record = merged.record;
  }
  return { record, tombstones };
}

function applyAll(writes: FieldWrite[], start: CustomerRecord = emptyCustomerRecord()) {
  return replay(writes, start).record;
}

/** RFC 7396 MergePatch, literally as the RFC's pseudo-code: the model the registers must match. */
function rfc7396(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const result: JsonObject =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...target } : {};
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete result[name];
    else result[name] = rfc7396(result[name], value);
  }
  return result;
}

/** The sequential model: writes applied one after another in stamp order. */
function sequentialModel(writes: FieldWrite[]) {
  const sorted = [...new Map(writes.map((w) => [w.stamp, w])).values()].sort((a, b) =>
    a.stamp < b.stamp ? -1 : 1,
  );
  const values: Record<string, unknown> = {};
  let metadata: JsonValue = {};
  for (const write of sorted) {
    Object.assign(values, write.patch);
    if (write.metadataPatch === null) metadata = {};
    else if (write.metadataPatch !== undefined) metadata = rfc7396(metadata, write.metadataPatch);
  }
  return { values, metadata };
}

describe('mergeFieldsLastWriterWins', () => {
  it('keeps the newer lastName when an older event arrives late', () => {
    const record = applyAll([
      { stamp: at(2), patch: { lastName: 'Newer' } },
      { stamp: at(1), patch: { lastName: 'Older', firstName: 'Ann' } },
    ]);
    assert.equal(record.values.lastName, 'Newer');
    assert.equal(record.values.firstName, 'Ann');
  });

  it('counts the skipped field of a late event as stale and applies the rest', () => {
    const first = mergeFieldsLastWriterWins(emptyCustomerRecord(), {
      stamp: at(2),
      patch: { lastName: 'Newer' },
    });
    const late = mergeFieldsLastWriterWins(first.record, {
      stamp: at(1),
      patch: { lastName: 'Older', city: 'Austin' },
    });
    assert.deepEqual(late.staleFields, ['lastName']);
    assert.deepEqual(late.changedFields, ['city']);
  });

  it('leaves absent fields unchanged and clears fields sent as null', () => {
    const record = applyAll([
      { stamp: at(1), patch: { firstName: 'Ann', email: 'ann@example.com' } },
      { stamp: at(2), patch: { email: null } },
    ]);
    assert.equal(record.values.firstName, 'Ann');
    assert.equal(record.values.email, null);
  });

  it('changes nothing and reports nothing when the same event is applied twice', () => {
    const write: FieldWrite = {
      stamp: at(1),
      patch: { phone: '+15551234567' },
      metadataPatch: { a: 1 },
    };
    const once = mergeFieldsLastWriterWins(emptyCustomerRecord(), write);
    const twice = mergeFieldsLastWriterWins(once.record, write);
    assert.deepEqual(twice.changedFields, []);
    assert.deepEqual(twice.record, once.record);
  });

  it('raises the version by one per write that changes something', () => {
    const record = applyAll([
      { stamp: at(1), patch: { firstName: 'Ann' } },
      { stamp: at(2), patch: { firstName: 'Ann' } },
      { stamp: at(3), patch: { firstName: 'Bea' } },
    ]);
    assert.equal(record.version, 2);
  });

  it('reports a write that sets a field to its current value as no change', () => {
    const first = mergeFieldsLastWriterWins(emptyCustomerRecord(), {
      stamp: at(1),
      patch: { doNotCall: true },
    });
    const same = mergeFieldsLastWriterWins(first.record, {
      stamp: at(2),
      patch: { doNotCall: true },
    });
    assert.deepEqual(same.changedFields, []);
    assert.equal(same.record.stamps.doNotCall, at(2));
  });

  it('applies metadata as a merge patch where null deletes a key', () => {
    const record = applyAll([
      {
        stamp: at(1),
        patch: {},
        metadataPatch: { employer: { name: 'Acme', since: 2019 }, pay: 'weekly' },
      },
      {
        stamp: at(2),
        patch: {},
        metadataPatch: { employer: { since: null }, pay: null, tier: 'gold' },
      },
    ]);
    assert.deepEqual(record.metadata, { employer: { name: 'Acme' }, tier: 'gold' });
  });

  it('clears all metadata when metadata is null, but keeps keys written later', () => {
    const record = applyAll([
      { stamp: at(3), patch: {}, metadataPatch: { kept: true } },
      { stamp: at(1), patch: {}, metadataPatch: { dropped: true } },
      { stamp: at(2), patch: {}, metadataPatch: null },
    ]);
    assert.deepEqual(record.metadata, { kept: true });
  });

  it('does not resurrect keys below a value that replaced them, whatever the order', () => {
    const writes: FieldWrite[] = [
      { stamp: at(1), patch: {}, metadataPatch: { p: { x: 1 } } },
      { stamp: at(2), patch: {}, metadataPatch: { p: 5 } },
      { stamp: at(3), patch: {}, metadataPatch: { p: { y: 2 } } },
    ];
    for (const order of [
      [0, 1, 2],
      [2, 1, 0],
      [2, 0, 1],
      [1, 2, 0],
    ]) {
      const record = applyAll(order.map((i) => writes[i] as FieldWrite));
      assert.deepEqual(record.metadata, { p: { y: 2 } });
    }
  });

  it('keeps a metadata key named __proto__ as plain data', () => {
    const patch = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as JsonObject;
    const record = applyAll([{ stamp: at(1), patch: {}, metadataPatch: patch }]);
    assert.equal(JSON.stringify(record.metadata), '{"__proto__":{"polluted":true},"a":1}');
    assert.equal(Object.getPrototypeOf(record.metadata), Object.prototype);
  });

  it('moves the tombstones of registers stored before they were kept apart out of them', () => {
    const legacy: MetadataRegisters = {
      '[]': { s: at(1), k: 'object' },
      '["gone"]': { s: at(1), k: 'delete', r: at(1) },
    };
    const outcome = applyMetadataPatch(legacy, { kept: 1 }, at(2));
    assert.deepEqual(Object.keys(outcome.registers).sort(), ['["kept"]', '[]']);
    assert.deepEqual(outcome.tombstones, { '["gone"]': at(1) });
  });

  it('asks for the tombstones of every path a patch writes, below the root', () => {
    assert.deepEqual(metadataPatchPaths({ a: { b: 1, c: null }, d: null }), [
      '["a"]',
      '["a","b"]',
      '["a","c"]',
      '["d"]',
    ]);
    assert.deepEqual(metadataPatchPaths(null), []);
  });

  describe('converges whatever the order (property)', () => {
    const fieldPatch: fc.Arbitrary<CustomerPatch> = fc.record(
      {
        firstName: fc.option(fc.constantFrom('Ann', 'Bea', 'Cy'), { nil: null }),
        lastName: fc.option(fc.constantFrom('Lee', 'Kim'), { nil: null }),
        phone: fc.option(fc.constantFrom('+15551230001', '+15551230002'), { nil: null }),
        doNotCall: fc.option(fc.boolean(), { nil: null }),
        timezone: fc.option(fc.constantFrom('America/New_York', 'America/Chicago'), { nil: null }),
      },
      { requiredKeys: [] },
    );
    const key = fc.constantFrom('a', 'b', 'c');
    const leaf: fc.Arbitrary<JsonValue> = fc.oneof(
      fc.constant(null),
      fc.integer({ min: 0, max: 3 }),
      fc.constant<JsonValue>([1, 2]),
    );
    const metadataValue: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.dictionary(key, tie('value'), { maxKeys: 3 }),
      ),
    })).value;
    const metadataPatch = fc.oneof(
      fc.constant(undefined),
      fc.constant(null),
      fc.dictionary(key, metadataValue, { maxKeys: 3 }),
    );
    const writes = fc
      .uniqueArray(fc.integer({ min: 0, max: 59 }), { minLength: 1, maxLength: 8 })
      .chain((seconds) =>
        fc.tuple(
          ...seconds.map((second) =>
            fc.record({
              stamp: fc.constant(at(second) as Stamp),
              patch: fieldPatch,
              metadataPatch,
            }),
          ),
        ),
      )
      .map((list) =>
        list.map((w): FieldWrite => {
          const write: FieldWrite = { stamp: w.stamp, patch: w.patch };
          if (w.metadataPatch !== undefined)
            write.metadataPatch = w.metadataPatch as JsonObject | null;
          return write;
        }),
      );

    it('equals the writes applied one after another in stamp order', () => {
      fc.assert(
        fc.property(writes, fc.infiniteStream(fc.nat()), (list, randomness) => {
          const withDuplicates = [...list, ...list.filter((_, i) => i % 2 === 0)];
          const shuffled = shuffle(withDuplicates, randomness);
          const record = applyAll(shuffled);
          const model = sequentialModel(list);
          for (const [field, value] of Object.entries(model.values)) {
            assert.deepEqual(record.values[field as keyof typeof record.values], value, field);
          }
          assert.deepEqual(record.metadata, model.metadata);
          assert.deepEqual(materialiseMetadata(record.metadataRegisters), record.metadata);
        }),
        { numRuns: 2000 },
      );
    });

    it('ends in the same stored registers for any two orders', () => {
      fc.assert(
        fc.property(writes, fc.infiniteStream(fc.nat()), (list, randomness) => {
          const a = replay(list);
          const b = replay(shuffle([...list, ...list], randomness));
          assert.deepEqual(b.record.values, a.record.values);
          assert.deepEqual(b.record.stamps, a.record.stamps);
          assert.deepEqual(b.record.metadataRegisters, a.record.metadataRegisters);
          // The tombstones stored apart may differ by stale ones; what they stand for may not.
          assert.deepEqual(
            foldTombstones(b.record.metadataRegisters, b.tombstones),
            foldTombstones(a.record.metadataRegisters, a.tombstones),
          );
        }),
        { numRuns: 2000 },
      );
    });
  });

  describe('keeps a customer’s bookkeeping bounded by its live metadata (property)', () => {
    // Many keys, mostly deleted, often deleted before they were ever set: the history that
    // left 884 KB of registers on an empty document before tombstones were kept apart.
    const key = fc.constantFrom(...Array.from({ length: 24 }, (_, n) => `k${n}`));
    const patch: fc.Arbitrary<JsonObject | null> = fc.oneof(
      { weight: 6, arbitrary: fc.dictionary(key, fc.constant(null), { minKeys: 1, maxKeys: 3 }) },
      {
        weight: 3,
        arbitrary: fc.dictionary(
          key,
          fc.oneof(fc.integer({ min: 0, max: 3 }), fc.dictionary(key, fc.constant(null))),
          { minKeys: 1, maxKeys: 2 },
        ),
      },
      { weight: 1, arbitrary: fc.constant(null) },
    );
    const history = fc
      .uniqueArray(fc.integer({ min: 0, max: 59_999 }), { minLength: 1, maxLength: 80 })
      .chain((times) =>
        fc.tuple(
          ...times.map((time) =>
            patch.map(
              (metadataPatch): FieldWrite => ({
                stamp: stampOf(
                  new Date(Date.UTC(2026, 0, 1) + time * 1_000)
                    .toISOString()
                    .replace('Z', '000000Z'),
                  `00000000-0000-4000-8000-${String(time).padStart(12, '0')}`,
                ),
                patch: {},
                metadataPatch,
              }),
            ),
          ),
        ),
      );

    it('stores no tombstone with the record, and stays equal to the sequential model', () => {
      fc.assert(
        fc.property(history, fc.infiniteStream(fc.nat()), (list, randomness) => {
          const { record } = replay(shuffle(list, randomness));
          assert.deepEqual(record.metadata, sequentialModel(list).metadata);
          const registers = Object.entries(record.metadataRegisters);
          assert.ok(
            registers.every(([path, register]) => path === '[]' || register.k !== 'delete'),
            'no tombstone among the registers',
          );
          // One register per node of the document, and the root: bounded by what is live.
          assert.ok(registers.length <= 1 + nodesOf(record.metadata));
        }),
        { numRuns: 1000 },
      );
    });
  });
});

function nodesOf(value: JsonValue): number {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 0;
  return Object.values(value).reduce<number>((count, child) => count + 1 + nodesOf(child), 0);
}

function shuffle<T>(items: T[], randomness: fc.Stream<number>): T[] {
  const copy = [...items];
  const it = randomness[Symbol.iterator]();
  for (let i = copy.length - 1; i > 0; i--) {
    const j = (it.next().value as number) % (i + 1);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}
