/**
 * SPEC §4.4, decoding bounded in memory: Avro values whose lengths and counts lie about the
 * bytes that follow are refused before avsc allocates for them, strings must be UTF-8 as in
 * plain JSON, and what is accepted decodes exactly as avsc alone decodes it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import avsc from 'avsc';
import fc from 'fast-check';
import { toAvroUpdateRequest } from '../../src/contracts/customer-update-requested-avro.ts';
import { DECODING_LIMITS } from '../../src/contracts/decoding-limits.ts';
import { isErrorCode } from '../../src/contracts/error-codes.ts';
import { decodeAvroBounded } from '../../src/messaging/schema-registry/avro-bounded-decoding.ts';
import { adversarialAvro, varint } from '../support/adversarial-bytes.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';

const requestType = avsc.Type.forSchema(
  JSON.parse(
    readFileSync(new URL('../../schemas/customer.update.requested.avsc', import.meta.url), 'utf8'),
  ) as avsc.Schema,
);
function encodeRequest(data: Record<string, unknown>): Buffer {
  const request = anUpdateRequest()
    .withEventId('0b9f6f4e-8a57-4c4b-9e35-1f2a3b4c5d6e')
    .occurredAt('2025-01-01T00:00:00Z')
    .withTenant('t')
    .withExternalId('c')
    .withData(data)
    .build();
  return requestType.toBuffer(toAvroUpdateRequest(request));
}

/** The SPEC §3 request with `loanIds: [7]`, its loanIds block count replaced by `count`, cut there. */
function declaringLoanIds(count: number): Buffer {
  const valid = encodeRequest({ loanIds: [7] });
  // loanIds: union branch 1 (0x02), a block of 1 (0x02), the long 7 (0x0e), the end (0x00).
  const at = valid.lastIndexOf(Buffer.from([0x02, 0x02, 0x0e, 0x00]));
  return Buffer.concat([valid.subarray(0, at + 1), varint(count)]);
}

/** Values in a decoded Avro value: what avsc had to build for it. */
function valuesIn(value: unknown): number {
  if (Array.isArray(value)) return 1 + value.reduce((sum: number, item) => sum + valuesIn(item), 0);
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    return 1 + Object.values(value).reduce((sum: number, item) => sum + valuesIn(item), 0);
  }
  return 1;
}

const hostileSchemas: Record<string, avsc.Schema> = {
  'an array of nulls': { type: 'array', items: 'null' },
  'a map of nulls': { type: 'map', values: 'null' },
  'an array of arrays of longs': { type: 'array', items: { type: 'array', items: 'long' } },
  'a record that contains itself': {
    type: 'record',
    name: 'Node',
    fields: [
      { name: 'label', type: 'string' },
      { name: 'next', type: ['null', 'Node'] },
    ],
  },
  'bytes, fixed, enum, float and double': {
    type: 'record',
    name: 'Mixed',
    fields: [
      { name: 'blob', type: 'bytes' },
      { name: 'id', type: { type: 'fixed', name: 'Id', size: 4 } },
      { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B'] } },
      { name: 'ratio', type: 'float' },
      { name: 'amount', type: 'double' },
      { name: 'tags', type: { type: 'map', values: 'string' } },
    ],
  },
};

describe('bounded Avro decoding', () => {
  it('dead-letters 124 bytes that declare 10⁹ loanIds, without allocating for them', () => {
    // Before this check avsc allocated until the heap ran out (issue 13).
    const hostile = declaringLoanIds(1_000_000_000);
    assert.ok(hostile.length < 131, `${hostile.length} bytes`);
    const heapBefore = process.memoryUsage().heapUsed;
    const result = decodeAvroBounded(requestType, hostile, 7);
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 32 * 1024 * 1024);
    assert.deepEqual(result, {
      ok: false,
      failure: {
        code: 'decode.length_exceeds_message',
        message: `data.loanIds declares 1000000000 items, more than the 0 bytes left in the message can hold`,
        path: 'data.loanIds',
      },
    });
  });

  it('refuses a string longer than the bytes left, naming its field', () => {
    const valid = encodeRequest({ firstName: 'Ann' });
    const at = valid.indexOf(Buffer.from([0x06, ...Buffer.from('Ann')])); // length 3, zig-zag
    const hostile = Buffer.concat([valid.subarray(0, at), varint(2 ** 40)]);
    const result = decodeAvroBounded(requestType, hostile, 7);
    assert.equal(!result.ok && result.failure.code, 'decode.length_exceeds_message');
    assert.equal(!result.ok && result.failure.path, 'data.firstName');
  });

  it('refuses invalid UTF-8 in a string, as plain JSON does, where avsc would store U+FFFD', () => {
    const valid = encodeRequest({ firstName: 'Zoë' });
    const invalid = Buffer.from(valid);
    const at = invalid.indexOf(Buffer.from('Zoë'));
    invalid[at + 2] = 0xff; // the first byte of ë
    assert.equal(
      (requestType.fromBuffer(invalid) as { data: { firstName: string } }).data.firstName,
      'Zo\uFFFD\uFFFD',
    );
    const result = decodeAvroBounded(requestType, invalid, 7);
    assert.deepEqual(result, {
      ok: false,
      failure: {
        code: 'decode.malformed',
        message: 'data.firstName is not valid UTF-8',
        path: 'data.firstName',
      },
    });
    assert.ok(decodeAvroBounded(requestType, valid, 7).ok);
  });

  it('bounds zero-byte items by the values allowed, since bytes cannot bound them', () => {
    const nulls = avsc.Type.forSchema(hostileSchemas['an array of nulls'] as avsc.Schema);
    const result = decodeAvroBounded(nulls, Buffer.concat([varint(1_000_000), varint(0)]), 7);
    assert.equal(!result.ok && result.failure.code, 'decode.too_many_values');
    const few = decodeAvroBounded(nulls, Buffer.concat([varint(3), varint(0)]), 7);
    assert.deepEqual(few, { ok: true, value: [null, null, null] });
  });

  it('checks a map count against the bytes left: every key takes at least one', () => {
    const map = avsc.Type.forSchema(hostileSchemas['a map of nulls'] as avsc.Schema);
    const result = decodeAvroBounded(map, Buffer.concat([varint(50), Buffer.alloc(10)]), 7);
    assert.equal(!result.ok && result.failure.code, 'decode.length_exceeds_message');
  });

  it('checks nested blocks too, and reads blocks that carry their byte size', () => {
    const nested = avsc.Type.forSchema(
      hostileSchemas['an array of arrays of longs'] as avsc.Schema,
    );
    const hostile = Buffer.concat([varint(1), varint(1_000_000_000), varint(1)]);
    const result = decodeAvroBounded(nested, hostile, 7);
    assert.equal(!result.ok && result.failure.code, 'decode.length_exceeds_message');
    // A block of -2 items followed by its size in bytes (Avro spec: negative counts).
    const sized = Buffer.concat([
      varint(1),
      varint(-2),
      varint(2),
      varint(5),
      varint(6),
      varint(0),
      varint(0),
    ]);
    assert.deepEqual(decodeAvroBounded(nested, sized, 7), { ok: true, value: [[5, 6]] });
  });

  it('refuses nesting deeper than the limit', () => {
    const linked = avsc.Type.forSchema(
      hostileSchemas['a record that contains itself'] as avsc.Schema,
    );
    const level = Buffer.concat([varint(1), Buffer.from('x'), varint(1)]); // label "x", next: Node
    const deep = Buffer.concat([
      ...Array.from({ length: 100 }, () => level),
      varint(1),
      Buffer.from('x'),
      varint(0),
    ]);
    const result = decodeAvroBounded(linked, deep, 7);
    assert.equal(!result.ok && result.failure.code, 'decode.too_deep');
  });

  it('answers a value cut short as declaring more than is left', () => {
    const result = decodeAvroBounded(requestType, encodeRequest({}).subarray(0, 12), 42);
    assert.equal(!result.ok && result.failure.code, 'decode.length_exceeds_message');
  });

  it('answers schema.mismatch for bytes that do not follow the schema, naming the schema id', () => {
    const valid = encodeRequest({});
    const result = decodeAvroBounded(requestType, Buffer.concat([valid, Buffer.from([1])]), 42);
    assert.deepEqual(result, {
      ok: false,
      failure: {
        code: 'schema.mismatch',
        message: 'the value does not decode with its Avro schema (id 42)',
      },
    });
  });

  for (const [name, schema] of Object.entries({
    'the request schema': requestType.schema(),
    ...hostileSchemas,
  })) {
    const type = avsc.Type.forSchema(schema as avsc.Schema);

    it(`decodes every value avsc writes for ${name} exactly as avsc reads it`, () => {
      fc.assert(
        fc.property(fc.integer(), (seed) => {
          const value = withSeed(seed, () => type.random());
          const bytes = type.toBuffer(value);
          const result = decodeAvroBounded(type, bytes, 7);
          assert.ok(result.ok, JSON.stringify(!result.ok && result.failure));
          assert.deepEqual(result.value, type.fromBuffer(bytes));
        }),
        { numRuns: 200 },
      );
    });

    it(`answers arbitrary bytes for ${name} with a value no bigger than its limits, or a code`, () => {
      const valid = type.toBuffer(withSeed(1, () => type.random()));
      fc.assert(
        fc.property(adversarialAvro(valid), (bytes) => {
          const result = decodeAvroBounded(type, bytes, 7);
          if (!result.ok) {
            assert.ok(isErrorCode(result.failure.code), result.failure.code);
            return;
          }
          assert.ok(valuesIn(result.value) <= DECODING_LIMITS.maxValues);
          assert.deepEqual(result.value, type.fromBuffer(bytes));
        }),
        { numRuns: 500 },
      );
    });
  }
});

/** avsc's random() uses Math.random: seeded here, so a failing run can be replayed. */
function withSeed<T>(seed: number, make: () => T): T {
  const original = Math.random;
  let state = seed >>> 0 || 1;
  Math.random = () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 2 ** 32;
  };
  try {
    return make();
  } finally {
    Math.random = original;
  }
}
