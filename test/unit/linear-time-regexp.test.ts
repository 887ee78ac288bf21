/**
 * The engine registry JSON Schemas' patterns run on (SPEC §4.4: decoding bounded in time):
 * no catastrophic backtracking, ECMAScript's meaning of the common classes, a deterministic
 * work budget per message, and a clear refusal of what RE2 cannot run.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import {
  createJsonSchemaCompiler,
  hasNoDuplicates,
} from '../../src/messaging/schema-registry/json-schema-compiler.ts';
import {
  createLinearTimeRegExpEngine,
  PatternWorkExceeded,
  PatternWorkMeter,
  UNSUPPORTED_PATTERN,
  UnsupportedPattern,
} from '../../src/messaging/schema-registry/linear-time-regexp.ts';

const requestSchema = JSON.parse(
  readFileSync(
    new URL('../../schemas/customer.update.requested.schema.json', import.meta.url),
    'utf8',
  ),
) as Record<string, unknown>;

function patternsOf(schema: unknown): string[] {
  const patterns: string[] = [];
  JSON.stringify(schema, (key, value: unknown) => {
    if (key === 'pattern' && typeof value === 'string') patterns.push(value);
    return value;
  });
  return patterns;
}

/** Text made of what tells the engines apart: ECMAScript spaces and line terminators, Unicode. */
const trickyText = fc.string({
  unit: fc.constantFrom(
    'a',
    'A',
    'z',
    '0',
    '9',
    '-',
    '.',
    '@',
    '_',
    ':',
    '+',
    '/',
    ' ',
    '\t',
    '\n',
    '\r',
    '\v',
    '\u00a0',
    '\u2028',
    '\u2029',
    '\u3000',
    '\ufeff',
    'é',
    'Ω',
    '😀',
    '\u0000',
    '\u001f',
  ),
  maxLength: 40,
});

describe('the linear-time regular-expression engine', () => {
  const engine = createLinearTimeRegExpEngine(new PatternWorkMeter());

  it('answers ^(a|a)*$ on a long near-match at once, where a backtracking engine never would', () => {
    // V8 took 1.6 s on 27 characters, doubling per further one (issue 13); here: 10,001.
    assert.equal(engine('^(a|a)*$', 'u').test(`${'a'.repeat(10_000)}b`), false);
    assert.equal(engine('^(a|a)*$', 'u').test('a'.repeat(10_000)), true);
  });

  it('agrees with ECMAScript on every pattern of the shipped request schema', () => {
    const compiled = patternsOf(requestSchema).map((pattern) => ({
      linear: engine(pattern, 'u'),
      ecmaScript: new RegExp(pattern, 'u'),
    }));
    fc.assert(
      fc.property(fc.constantFrom(...compiled), trickyText, ({ linear, ecmaScript }, text) => {
        assert.equal(linear.test(text), ecmaScript.test(text), String(ecmaScript));
      }),
      { numRuns: 2_000 },
    );
  });

  it('gives \\s, \\S and . their ECMAScript meaning', () => {
    const patterns = [
      '\\s',
      '\\S',
      '^.$',
      '^\\s*x\\s*$',
      '[\\s]',
      '[^\\s]',
      '[\\s\\S]',
      '^[.]$',
      '\\.',
    ];
    fc.assert(
      fc.property(fc.constantFrom(...patterns), trickyText, (pattern, text) => {
        assert.equal(engine(pattern, 'u').test(text), new RegExp(pattern, 'u').test(text), pattern);
      }),
      { numRuns: 1_000 },
    );
  });

  it('refuses lookaround and backreferences, saying so, rather than backtrack', () => {
    for (const pattern of ['^(?=a)a', '(?!x)y', '(a)\\1', '(?<=a)b']) {
      assert.throws(
        () => engine(pattern, 'u'),
        (error: Error) =>
          error instanceof UnsupportedPattern && error.message.startsWith(UNSUPPORTED_PATTERN),
        pattern,
      );
    }
  });

  it('charges every match its worst case and stops a message at its budget', () => {
    const meter = new PatternWorkMeter(1_000);
    const metered = createLinearTimeRegExpEngine(meter);
    const digits = metered('^\\d{4}$', 'u');
    digits.test('1234');
    const perMatch = meter.spent;
    assert.ok(perMatch > 0);
    digits.test('12345678');
    assert.ok(meter.spent > 2 * perMatch, 'a longer text costs more');
    assert.throws(() => digits.test('1'.repeat(1_000)), PatternWorkExceeded);
    meter.reset();
    assert.equal(digits.test('1234'), true);
  });
});

describe('the JSON Schema compiler for registry schemas', () => {
  it('checks uniqueItems as JSON equality of every pair would, in one pass', () => {
    // The reference compares every pair; Ajv's own (fast-deep-equal) would do too, but it
    // throws on an object with a member named "toString" that is not a function.
    const everyPairDistinct = (items: unknown[]) =>
      items.every((item, index) =>
        items.slice(index + 1).every((other) => !isDeepStrictEqual(item, other)),
      );
    fc.assert(
      fc.property(fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 8 }), (generated) => {
        const items = JSON.parse(JSON.stringify(generated)) as unknown[]; // as a decoder builds them
        const withDuplicate = items.length > 0 ? [...items, structuredClone(items[0])] : items;
        for (const candidate of [items, withDuplicate]) {
          assert.equal(hasNoDuplicates(candidate), everyPairDistinct(candidate));
        }
      }),
    );
    assert.equal(hasNoDuplicates([{ toString: null }, { toString: null }]), false);
  });

  it('compiles patterns onto the linear-time engine and uniqueItems onto the linear check', () => {
    const meter = new PatternWorkMeter();
    const compiler = createJsonSchemaCompiler(meter);
    const validate = compiler.compile({
      type: 'object',
      properties: {
        name: { type: 'string', pattern: '^(a|a)*$' },
        ids: { type: 'array', uniqueItems: true },
      },
    });
    assert.equal(validate({ name: `${'a'.repeat(5_000)}b` }), false);
    assert.ok(meter.spent > 5_000, 'the pattern ran on the metered engine');
    const distinct = Array.from({ length: 16_000 }, (_, index) => ({ id: index }));
    assert.equal(validate({ ids: distinct }), true);
    assert.equal(validate({ ids: [...distinct, { id: 7 }] }), false);
    assert.throws(
      () => compiler.compile({ type: 'string', pattern: '^(?=a)' }),
      (error: Error) => error.message.startsWith(UNSUPPORTED_PATTERN),
    );
  });
});
