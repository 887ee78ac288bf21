import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { CompressionTypes } from 'kafkajs';
import { compressFrameSync } from 'lz4-napi';
import { compressSync as snappyBlock } from 'snappy';
import {
  KAFKA_CODECS,
  lz4DecompressedBound,
  MAX_DECOMPRESSED_BATCH_BYTES,
  UndecompressableBatchError,
} from '../../src/messaging/kafka/kafka-codecs.ts';
// Registers the codecs and the record batch guard, as every process that makes a client does.
import '../../src/messaging/kafka/kafka-client.ts';
import { unreadableRecordBatchOf } from '../../src/messaging/consumer/unreadable-record-batches.ts';

const require = createRequire(import.meta.url);
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');
const Record = require('kafkajs/src/protocol/recordBatch/record/v0');
const Decoder = require('kafkajs/src/protocol/decoder');
/** kafkajs' own decoding of a partition's records in a fetch response */
const decodeMessages = require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages');

const codecNames = ['gzip', 'snappy', 'lz4', 'zstd'] as const;

describe('the Kafka codecs', () => {
  it('decompress what they compress, for every codec', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...codecNames),
        fc.uint8Array({ maxLength: 100_000 }),
        async (name, bytes) => {
          const codec = KAFKA_CODECS[name];
          const input = Buffer.from(bytes);
          assert.deepEqual(await codec.decompress(await codec.compress({ buffer: input })), input);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('read snappy as librdkafka writes it (one raw block) and as the Java client does (xerial blocks)', async () => {
    const text = Buffer.from('customer-sync '.repeat(10_000));
    assert.deepEqual(await KAFKA_CODECS.snappy.decompress(snappyBlock(text)), text);
    const framed = await KAFKA_CODECS.snappy.compress({ buffer: text });
    assert.deepEqual(
      framed.subarray(0, 8),
      Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0]),
    );
    assert.ok(framed.readUInt32BE(16) > 0, 'a first block of 32 KiB');
    assert.deepEqual(await KAFKA_CODECS.snappy.decompress(framed), text);
  });

  it('write LZ4 frames of independent blocks, which the Java client reads', async () => {
    const frame = await KAFKA_CODECS.lz4.compress({ buffer: Buffer.from('a'.repeat(200_000)) });
    assert.equal(frame.readUInt32LE(0), 0x184d2204);
    assert.equal((frame[4] as number) & 0x20, 0x20, 'block independence flag');
    // KafkaLZ4BlockInputStream reads the frame's block sizes, 64 KiB (4) to 4 MiB (7)
    assert.ok([4, 5, 6, 7].includes((frame[5] as number) >> 4), 'a block size Java reads');
  });

  it('refuse to inflate a batch past the limit, before allocating it where the format tells', async () => {
    const bomb = Buffer.alloc(MAX_DECOMPRESSED_BATCH_BYTES + 1);
    const gzipBomb = zlib.gzipSync(bomb);
    await assert.rejects(KAFKA_CODECS.gzip.decompress(gzipBomb), UndecompressableBatchError);
    await assert.rejects(
      KAFKA_CODECS.zstd.decompress(zlib.zstdCompressSync(bomb)),
      UndecompressableBatchError,
    );
    // a snappy block that declares more than the limit in its length preamble
    const declared = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
    await assert.rejects(KAFKA_CODECS.snappy.decompress(declared), /more than the/);
    assert.throws(() => lz4DecompressedBound(compressFrameSync(bomb)), /over/);
  });

  it('say that corrupt data is corrupt', async () => {
    for (const name of codecNames)
      await assert.rejects(
        KAFKA_CODECS[name].decompress(Buffer.from('definitely not compressed data')),
        UndecompressableBatchError,
      );
  });
});

/** A v2 record batch of `count` records as the broker stores it, with codec `compression`. */
async function recordBatch(firstOffset: number, count: number, compression: CompressionTypes) {
  const records = Array.from({ length: count }, (_, index) =>
    Record({ offsetDelta: index, key: `k${index}`, value: `v${firstOffset + index}` }),
  );
  const batch = await RecordBatch({
    compression,
    firstOffset,
    firstTimestamp: Date.now(),
    lastOffsetDelta: count - 1,
    records,
  });
  return batch.buffer as Buffer;
}

/** A partition's record set in a fetch response: its size, then its batches. */
function recordSet(...batches: Buffer[]): InstanceType<typeof Decoder> {
  const body = Buffer.concat(batches);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return new Decoder(Buffer.concat([size, body]));
}

describe('a record batch that cannot be decoded', () => {
  it('becomes one marker after the records before it, instead of failing the whole fetch', async () => {
    const readable = await recordBatch(0, 3, CompressionTypes.GZIP);
    const unreadable = await recordBatch(3, 4, CompressionTypes.LZ4);
    unreadable.writeInt16BE(5, 21); // attributes: codec id 5, which Kafka has not assigned
    const after = await recordBatch(7, 2, CompressionTypes.None);

    const messages = await decodeMessages(recordSet(readable, unreadable, after));

    assert.deepEqual(
      messages.slice(0, 3).map((message: { value: Buffer }) => message.value.toString()),
      ['v0', 'v1', 'v2'],
    );
    assert.equal(messages.length, 4, 'nothing after the unreadable batch');
    assert.deepEqual(unreadableRecordBatchOf(messages[3]), {
      firstOffset: '3',
      lastOffset: '6',
      codec: 'codec 5',
      reason: 'codec 5 record batch cannot be decompressed: this codec is unknown to customer-sync',
    });
    assert.equal(messages[3].offset, '6');
  });

  it('of a known codec with corrupt data is marked the same way', async () => {
    const batch = await recordBatch(10, 2, CompressionTypes.ZSTD);
    batch.fill(0x55, 61); // the compressed records
    const [marker] = await decodeMessages(recordSet(batch));
    assert.equal(unreadableRecordBatchOf(marker)?.codec, 'zstd');
    assert.match(unreadableRecordBatchOf(marker)?.reason ?? '', /corrupt/);
  });
});
