import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkRangeOrder,
  parseCount,
  parsePartitions,
  parseRangeBound,
  parseTenantId,
  parseTime,
} from '../../src/cli/range-arguments.ts';
import { UsageError } from '../../src/cli/usage-error.ts';

describe('replay and dlq arguments', () => {
  it('reads --from/--to as an offset, an edge or an RFC 3339 time', () => {
    assert.deepEqual(parseRangeBound('0', '--from'), { kind: 'offset', offset: 0n });
    assert.deepEqual(parseRangeBound('9007199254740993', '--from'), {
      kind: 'offset',
      offset: 9007199254740993n,
    });
    assert.deepEqual(parseRangeBound('earliest', '--from'), { kind: 'earliest' });
    assert.deepEqual(parseRangeBound('latest', '--to'), { kind: 'latest' });
    assert.deepEqual(parseRangeBound('2026-03-01T09:30:00+02:00', '--from'), {
      kind: 'time',
      at: new Date('2026-03-01T07:30:00Z'),
    });
    assert.deepEqual(parseRangeBound('2026-03-01', '--from'), {
      kind: 'time',
      at: new Date('2026-03-01T00:00:00Z'),
    });
  });

  it('refuses times without an offset, negative offsets and words it does not know', () => {
    for (const text of ['2026-03-01T09:30:00', '-1', 'yesterday', '2026-13-01T00:00:00Z', ''])
      assert.throws(() => parseRangeBound(text, '--from'), UsageError, text);
  });

  it('refuses a range that ends before it starts', () => {
    assert.throws(
      () => checkRangeOrder({ kind: 'offset', offset: 5n }, { kind: 'offset', offset: 4n }),
      /--to must not be before --from/,
    );
    assert.throws(() =>
      checkRangeOrder(
        { kind: 'time', at: new Date('2026-03-02T00:00:00Z') },
        { kind: 'time', at: new Date('2026-03-01T00:00:00Z') },
      ),
    );
    checkRangeOrder({ kind: 'offset', offset: 5n }, { kind: 'offset', offset: 5n });
    checkRangeOrder({ kind: 'time', at: new Date() }, { kind: 'offset', offset: 0n });
  });

  it('reads partitions, counts, tenants and times, naming the option when they are wrong', () => {
    assert.deepEqual(parsePartitions('3, 0,3'), [0, 3]);
    assert.throws(() => parsePartitions('0,,1'), /--partition/);
    assert.equal(parseCount('20', '--limit', 1, 100), 20);
    assert.throws(
      () => parseCount('0', '--limit', 1, 100),
      /--limit must be a whole number from 1 to 100/,
    );
    assert.throws(() => parseCount('2.5', '--limit', 1, 100), UsageError);
    assert.equal(parseTenantId('tenant-a'), 'tenant-a');
    assert.throws(() => parseTenantId('tenant:a'), /--tenant must be a tenant id/);
    assert.throws(() => parseTime('now', 'dlq list: --since'), /dlq list: --since must be/);
  });
});
