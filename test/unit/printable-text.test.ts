import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alignedPairs, alignedTable } from '../../src/cli/aligned-table.ts';
import { printableText } from '../../src/cli/printable-text.ts';
import { eventIdInPayload } from '../../src/messaging/event-id-in-payload.ts';

describe('printableText: producer text on an operator terminal', () => {
  it('escapes the controls a terminal would act on and leaves printable text alone', () => {
    assert.equal(printableText('tenant-a:c-1 Zoë 東京 😀'), 'tenant-a:c-1 Zoë 東京 😀');
    assert.equal(printableText('\u001b]0;owned\u0007x'), '\\x1b]0;owned\\x07x');
    assert.equal(printableText('a\nb\tc\u007f\u009b'), 'a\\x0ab\\x09c\\x7f\\x9b');
    assert.equal(printableText('evil\u202egnp.exe'), 'evil\\u202egnp.exe');
    assert.equal(printableText('lone \ud800 half'), 'lone \\ud800 half');
  });

  it('is idempotent: escaping escaped text changes nothing', () => {
    const once = printableText('\u001b[31mred');
    assert.equal(printableText(once), once);
  });
});

describe('alignedTable / alignedPairs', () => {
  it('pads columns to their widest cell, escaping cells first', () => {
    assert.deepEqual(alignedTable([['A', 'BB'], ['ccc', '\u001b'], ['d']]), [
      'A    BB',
      'ccc  \\x1b',
      'd',
    ]);
  });

  it('prints name/value pairs in one column and skips absent values', () => {
    assert.deepEqual(
      alignedPairs(
        [
          ['key', 'a\u0007'],
          ['absent', undefined],
        ],
        6,
      ),
      ['key    a\\x07'],
    );
  });
});

describe('eventIdInPayload: tie a dead letter to its request without reading its values', () => {
  it('finds the eventId of a JSON request, lower-cased', () => {
    const value = Buffer.from(JSON.stringify({ eventId: 'A1B2C3D4-0000-4000-8000-000000000001' }));
    assert.equal(eventIdInPayload(value), 'a1b2c3d4-0000-4000-8000-000000000001');
  });

  it('has none for bytes that are not JSON, wire format, or no UUID', () => {
    for (const value of [
      null,
      Buffer.alloc(0),
      Buffer.from('{not json'),
      Buffer.from([0, 0, 0, 0, 1, 2]),
      Buffer.from('"just a string"'),
      Buffer.from('null'),
      Buffer.from(JSON.stringify({ eventId: 'not-a-uuid' })),
    ])
      assert.equal(eventIdInPayload(value), undefined);
  });
});
