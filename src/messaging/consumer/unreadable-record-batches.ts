import { createRequire } from 'node:module';
import type { KafkaMessage } from 'kafkajs';
import { UndecompressableBatchError } from '../kafka/kafka-codecs.ts';

/**
 * A record batch this process could not decode (a codec it does not have, corrupt or
 * oversized compressed data), in place of its records. It reaches `eachBatch` as one message
 * at the batch's last offset, after the messages before it; the consumer stops there, pauses
 * the partition and fetches it again later (SPEC §4.5: never skipped). Only that partition
 * waits: the others in the same fetch are decoded as usual.
 */
export interface UnreadableRecordBatch {
  firstOffset: string;
  lastOffset: string;
  /** the codec name (`snappy`, `codec 5`, …) when known */
  codec: string;
  /** PII-free: what went wrong, never the data */
  reason: string;
}

const UNREADABLE = Symbol.for('customer-sync.unreadable-record-batch');

type MarkedMessage = KafkaMessage & { [UNREADABLE]?: UnreadableRecordBatch };

/** The unreadable batch this message stands for, if it is such a marker. */
export function unreadableRecordBatchOf(message: KafkaMessage): UnreadableRecordBatch | undefined {
  return (message as MarkedMessage)[UNREADABLE];
}

interface FetchDecoder {
  offset: number;
  buffer: Buffer;
}
type RecordBatchDecoder = (decoder: FetchDecoder) => Promise<{ records: unknown[] }>;

const CODEC_NAMES: Record<number, string> = {
  0: 'none',
  1: 'gzip',
  2: 'snappy',
  3: 'lz4',
  4: 'zstd',
};
const RECORD_BATCH_ATTRIBUTES_AT = 21;

/** A batch of kafkajs' own tail handling: the loop in decodeMessages stops on this name. */
class StopDecodingBatches extends Error {
  constructor() {
    super('an unreadable record batch ends this partition’s records in this fetch');
    this.name = 'KafkaJSPartialMessageError';
  }
}

function markerFor(batchStart: number, decoder: FetchDecoder, error: unknown): MarkedMessage {
  const header = decoder.buffer;
  const firstOffset = header.readBigInt64BE(batchStart);
  const attributes =
    header.length >= batchStart + RECORD_BATCH_ATTRIBUTES_AT + 2
      ? header.readInt16BE(batchStart + RECORD_BATCH_ATTRIBUTES_AT)
      : 0;
  const lastOffsetDelta =
    header.length >= batchStart + RECORD_BATCH_ATTRIBUTES_AT + 6
      ? header.readInt32BE(batchStart + RECORD_BATCH_ATTRIBUTES_AT + 2)
      : 0;
  const lastOffset = (firstOffset + BigInt(Math.max(0, lastOffsetDelta))).toString();
  const codec =
    error instanceof UndecompressableBatchError
      ? error.codec
      : (CODEC_NAMES[attributes & 0x07] ?? `codec ${attributes & 0x07}`);
  const reason =
    error instanceof UndecompressableBatchError
      ? error.message
      : `the record batch does not decode (${(error as { name?: string }).name ?? 'error'})`;
  return {
    key: null,
    value: null,
    headers: {},
    timestamp: '0',
    attributes: 0,
    offset: lastOffset,
    // what kafkajs' Batch reads: not a control record, not part of a transaction
    ...({ isControlRecord: false, magicByte: 2, batchContext: { inTransaction: false } } as object),
    [UNREADABLE]: { firstOffset: firstOffset.toString(), lastOffset, codec, reason },
  };
}

/**
 * Wraps kafkajs' record batch decoder: a batch that fails to decode becomes a marker instead
 * of failing the whole fetch response, which kafkajs 2.2.4 turns into a consumer crash
 * (KafkaJSNotImplemented for snappy/lz4/zstd, then "cannot recover"). Any decoding failure of
 * a batch counts, not only ours; kafkajs' own incomplete-tail error passes through as is.
 */
export function guardRecordBatchDecoder(original: RecordBatchDecoder): RecordBatchDecoder {
  const stopped = new WeakSet<FetchDecoder>();
  return async (decoder) => {
    if (stopped.has(decoder)) throw new StopDecodingBatches();
    const batchStart = decoder.offset;
    try {
      return await original(decoder);
    } catch (error) {
      if ((error as { name?: string }).name === 'KafkaJSPartialMessageError') throw error;
      // The batch's header was read whole (kafkajs checks its length first), so the marker can
      // name its offsets; nothing after it in this record set is decoded.
      stopped.add(decoder);
      if (decoder.buffer.length < batchStart + 12) throw new StopDecodingBatches();
      return { records: [markerFor(batchStart, decoder, error)] };
    }
  };
}

const KAFKAJS_RECORD_BATCH_DECODER = 'kafkajs/src/protocol/recordBatch/v0/decoder.js';
const KAFKAJS_DECODE_MESSAGES = 'kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js';

let installed = false;

/**
 * Puts the guard in kafkajs' module cache before its fetch decoder first loads (kafkajs loads
 * its protocol modules on first use, after a client is made). Throws if too late: reading
 * without the guard would crash on the first unreadable batch.
 */
export function installRecordBatchGuard(): void {
  if (installed) return;
  const require = createRequire(import.meta.url);
  const decoderPath = require.resolve(KAFKAJS_RECORD_BATCH_DECODER);
  const decodeMessagesPath = require.resolve(KAFKAJS_DECODE_MESSAGES);
  if (require.cache[decodeMessagesPath] !== undefined)
    throw new Error(
      'kafkajs decoded a fetch before the record batch guard was installed: import src/messaging/kafka/kafka-client.ts before making any Kafka client',
    );
  const original = require(decoderPath) as RecordBatchDecoder;
  const cached = require.cache[decoderPath];
  if (cached === undefined) throw new Error(`kafkajs module ${decoderPath} is not in the cache`);
  cached.exports = guardRecordBatchDecoder(original);
  installed = true;
}
