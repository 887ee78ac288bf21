import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alignedPairs, alignedTable } from '../../src/cli/aligned-table.ts';
import { eventIdInPayload } from '../../src/messaging/dead-letters/event-id-in-payload.ts';

describe('alignedTable / alignedPairs', () => {
  it('pads columns to their widest cell, with no trailing blanks', () => {
    assert.deepEqual(alignedTable([['A', 'BB', 'C'], ['ccc', '', 'x'], ['d']]), [
      'A    BB  C',
      'ccc      x',
      'd',
    ]);
  });

  it('prints name/value pairs in one column and skips absent values', () => {
    assert.deepEqual(
      alignedPairs(
        [
          ['key', 'a b'],
          ['absent', undefined],
        ],
        6,
      ),
      ['key    a b'],
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
