import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Message } from 'kafkajs';
import { recordBytes, splitByBytes } from '../../src/messaging/kafka/record-bytes.ts';
import { refusalOf } from '../../src/messaging/kafka/refused-records.ts';

const require = createRequire(import.meta.url);
/** kafkajs' own encoder of a v2 record: what the request really carries */
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (record: {
  offsetDelta: number;
  timestampDelta: number;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string | Array<Buffer | string>>;
}) => { buffer: Buffer };
const kafkaErrors = require('kafkajs/src/errors.js');
const { createErrorFromCode } = require('kafkajs/src/protocol/error.js');

const text = fc.string({ unit: 'binary', maxLength: 300 });
const message = fc.record({
  key: fc.option(text, { nil: null }),
  value: fc.option(fc.oneof(text, fc.uint8Array({ maxLength: 2_000 }).map(Buffer.from)), {
    nil: null,
  }),
  headers: fc.dictionary(
    fc.string({ minLength: 1, maxLength: 20 }),
    fc.oneof(text, fc.array(text, { maxLength: 3 })),
  ),
});

describe('the size of a record on the wire', () => {
  it('is never underestimated: kafkajs encodes every record in at most what recordBytes counts', () => {
    fc.assert(
      fc.property(message, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (generated, offsetDelta) => {
        const encoded = encodeRecord({
          offsetDelta,
          timestampDelta: 2 ** 40,
          key: generated.key,
          value: generated.value,
          headers: generated.headers,
        });
        assert.ok(encoded.buffer.length <= recordBytes(generated as Message));
      }),
    );
  });
});

describe('splitting a send by bytes', () => {
  const sizes = fc.array(fc.integer({ min: 1, max: 5_000 }), { maxLength: 200 });

  it('keeps every item, in order, and each run within the budget unless one item alone is larger', () => {
    fc.assert(
      fc.property(sizes, fc.integer({ min: 1, max: 10_000 }), (items, budget) => {
        const runs = splitByBytes(items, (size) => size, budget);
        assert.deepEqual(runs.flat(), items);
        for (const run of runs) {
          const total = run.reduce((sum, size) => sum + size, 0);
          assert.ok(run.length > 0);
          assert.ok(total <= budget || run.length === 1, `run ${run} over ${budget}`);
        }
      }),
    );
  });

  it('fills each run before starting the next', () => {
    assert.deepEqual(
      splitByBytes([400, 400, 400, 1_500, 100], (size) => size, 1_000),
      [[400, 400], [400], [1_500], [100]],
    );
  });
});

describe("the broker's refusals", () => {
  const refused = (code: number) =>
    new kafkaErrors.KafkaJSNonRetriableError(createErrorFromCode(code), {
      cause: createErrorFromCode(code),
    });

  it('names a record too large, a batch too large, an invalid record and an invalid timestamp', () => {
    assert.equal(refusalOf(refused(10))?.code, 'kafka.message_too_large');
    assert.equal(refusalOf(refused(18))?.code, 'kafka.record_list_too_large');
    assert.equal(refusalOf(refused(87))?.code, 'kafka.invalid_record');
    assert.equal(refusalOf(refused(32))?.code, 'kafka.invalid_timestamp');
  });

  it('is not what an outage, a moved leader or a missing permission says', () => {
    assert.equal(refusalOf(refused(6)), undefined); // NOT_LEADER_OR_FOLLOWER
    assert.equal(refusalOf(refused(29)), undefined); // TOPIC_AUTHORIZATION_FAILED
    assert.equal(refusalOf(refused(76)), undefined); // UNSUPPORTED_COMPRESSION_TYPE
    assert.equal(refusalOf(new kafkaErrors.KafkaJSConnectionError('down')), undefined);
  });
});
