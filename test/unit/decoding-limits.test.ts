/**
 * DECODING_LIMITS on JSON text (SPEC §4.4): measured before JSON.parse, exactly as the parsed
 * value would be (strings holding brackets, commas and escaped quotes do not fool it).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkJsonStructure } from '../../src/contracts/decoding-limits.ts';

/** Depth (the root container is 1) and values (the root, every item, every member). */
function measure(value: unknown, depth = 1): { depth: number; values: number } {
  if (value === null || typeof value !== 'object') return { depth: depth - 1, values: 1 };
  const children = Array.isArray(value) ? value : Object.values(value);
  let deepest = depth;
  let values = 1;
  for (const child of children) {
    const inner = measure(child, depth + 1);
    deepest = Math.max(deepest, inner.depth);
    values += inner.values;
  }
  return { depth: deepest, values };
}

const trickyStrings = fc.string({
  unit: fc.constantFrom('a', '[', ']', '{', '}', ',', '"', '\\', ' '),
});
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.oneof(trickyStrings, fc.integer(), fc.boolean(), fc.constant(null)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(trickyStrings, tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('the JSON structure limits', () => {
  it('refuses exactly the values nested deeper or holding more values than the limits', () => {
    fc.assert(
      fc.property(
        json,
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        (value, maxDepth, maxValues, pretty) => {
          const text = JSON.stringify(value, null, pretty ? 2 : undefined);
          const { depth, values } = measure(value);
          const failure = checkJsonStructure(text, { maxDepth, maxValues });
          const expected =
            depth > maxDepth
              ? 'decode.too_deep'
              : values > maxValues
                ? 'decode.too_many_values'
                : undefined;
          if (expected === undefined || failure === undefined)
            assert.equal(failure?.code, expected, text);
          else
            assert.ok(['decode.too_deep', 'decode.too_many_values'].includes(failure.code), text);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('refuses 10 MiB of nesting or of keys before anything is parsed', () => {
    const deep = `${'['.repeat(5_000_000)}${']'.repeat(5_000_000)}`;
    assert.equal(checkJsonStructure(deep)?.code, 'decode.too_deep');
    const keys = `{${Array.from({ length: 1_000_000 }, (_, index) => `"${index.toString(36)}":0`).join(',')}}`;
    assert.equal(checkJsonStructure(keys)?.code, 'decode.too_many_values');
  });

  it('lets text that is not JSON through, for JSON.parse to refuse', () => {
    assert.equal(checkJsonStructure('{"unterminated'), undefined);
    assert.equal(checkJsonStructure('not json at all'), undefined);
  });
});
