import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { compressFrame, decompressFrame } from 'lz4-napi';
import { compress as snappyCompress, uncompress as snappyUncompress } from 'snappy';

/**
 * The record batch codecs of Kafka's protocol (SPEC §4.4: whatever a producer sends is read).
 * kafkajs 2.2.4 ships gzip only; these are registered for every Kafka client we make
 * (kafka-client.ts). Libraries, each with prebuilt binaries on the npm registry or none:
 * - gzip and zstd: Node's own zlib (zstd since Node 22.15), nothing to install;
 * - snappy: `snappy` (napi-rs bindings of the Rust snap crate) for the blocks, plus the xerial
 *   framing the Java client writes (below), which no maintained package implements alone;
 * - lz4: `lz4-napi` (napi-rs, lz4_flex), which reads and writes the LZ4 frame format that
 *   Kafka uses (KIP-57; since message format v1 with the correct header checksum).
 * Each decompression is bounded (MAX_DECOMPRESSED_BATCH_BYTES), checked before it allocates
 * where the format says the size, so a small hostile batch cannot exhaust memory.
 */

/** kafkajs' codec interface: `compress` receives its Encoder, `decompress` the batch's records. */
export interface KafkaCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

/** Kafka's codec ids (the low three bits of a record batch's attributes). */
export const CODEC_IDS = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CodecName = keyof typeof CODEC_IDS;

/**
 * The most one record batch may decompress to. A batch is at most the broker's
 * message.max.bytes compressed (1 MiB by default) and holds messages of at most
 * MAX_MESSAGE_BYTES (64 KiB by default) each; 64 MiB is far beyond any batch a producer
 * writes (the Java producer closes a batch at batch.size, 16 KiB compressed), and is what a
 * hostile 256 KiB batch could otherwise inflate to many times over.
 */
export const MAX_DECOMPRESSED_BATCH_BYTES = 64 * 1024 * 1024;

/** A batch that this process cannot turn into records; the fetch guard makes it a retry. */
export class UndecompressableBatchError extends Error {
  readonly codec: string;
  constructor(codec: string, reason: string, options?: { cause?: unknown }) {
    super(`${codec} record batch cannot be decompressed: ${reason}`, options);
    this.name = 'UndecompressableBatchError';
    this.codec = codec;
  }
}

function tooLarge(codec: string, bytes: number | string): UndecompressableBatchError {
  return new UndecompressableBatchError(
    codec,
    `it declares ${bytes} bytes decompressed, more than the ${MAX_DECOMPRESSED_BATCH_BYTES} allowed`,
  );
}

async function guarded(codec: string, work: () => Promise<Buffer>): Promise<Buffer> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof UndecompressableBatchError) throw error;
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE')
      throw tooLarge(codec, `over ${MAX_DECOMPRESSED_BATCH_BYTES}`);
    throw new UndecompressableBatchError(codec, 'the data is corrupt', { cause: error });
  }
}

const gzip = promisify(zlib.gzip);
const unzip = promisify(zlib.unzip);
const zstdCompress = promisify(zlib.zstdCompress);
const zstdDecompress = promisify(zlib.zstdDecompress);
const bounded = { maxOutputLength: MAX_DECOMPRESSED_BATCH_BYTES };

export const gzipCodec: KafkaCodec = {
  compress: (encoder) => gzip(encoder.buffer),
  decompress: (buffer) => guarded('gzip', () => unzip(buffer, bounded)),
};

export const zstdCodec: KafkaCodec = {
  compress: (encoder) => zstdCompress(encoder.buffer),
  decompress: (buffer) => guarded('zstd', () => zstdDecompress(buffer, bounded)),
};

/**
 * The Java client (snappy-java's SnappyOutputStream) frames snappy as xerial's stream: a
 * 16-byte header (magic, version, compatible version), then blocks of [int32 length][raw
 * snappy block]. librdkafka and kafkajs-snappy write one raw block. Both are read; we write
 * the xerial framing, which every Kafka client reads (snappy-java reads nothing else).
 */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER = Buffer.concat([XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]);
/** snappy-java's default block size */
const XERIAL_BLOCK_BYTES = 32 * 1024;

/** A raw snappy block starts with its uncompressed length as a little-endian varint. */
export function snappyUncompressedLength(block: Buffer): number {
  let length = 0;
  for (let index = 0; index < 5 && index < block.length; index++) {
    const byte = block[index] as number;
    length += (byte & 0x7f) * 2 ** (7 * index);
    if ((byte & 0x80) === 0) return length;
  }
  throw new UndecompressableBatchError('snappy', 'a block has no valid length');
}

function xerialBlocks(buffer: Buffer): Buffer[] {
  const blocks: Buffer[] = [];
  for (let offset = XERIAL_HEADER.length; offset < buffer.length; ) {
    if (offset + 4 > buffer.length)
      throw new UndecompressableBatchError('snappy', 'a xerial block is truncated');
    const size = buffer.readUInt32BE(offset);
    offset += 4;
    if (offset + size > buffer.length)
      throw new UndecompressableBatchError('snappy', 'a xerial block is truncated');
    blocks.push(buffer.subarray(offset, offset + size));
    offset += size;
  }
  return blocks;
}

export const snappyCodec: KafkaCodec = {
  async compress(encoder) {
    const input = encoder.buffer;
    const parts: Buffer[] = [XERIAL_HEADER];
    for (let offset = 0; offset < input.length; offset += XERIAL_BLOCK_BYTES) {
      const block = await snappyCompress(input.subarray(offset, offset + XERIAL_BLOCK_BYTES));
      const size = Buffer.alloc(4);
      size.writeUInt32BE(block.length);
      parts.push(size, block);
    }
    return Buffer.concat(parts);
  },
  decompress: (buffer) =>
    guarded('snappy', async () => {
      const framed = buffer.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC);
      const blocks = framed ? xerialBlocks(buffer) : [buffer];
      const total = blocks.reduce((sum, block) => sum + snappyUncompressedLength(block), 0);
      if (total > MAX_DECOMPRESSED_BATCH_BYTES) throw tooLarge('snappy', total);
      const parts = await Promise.all(
        blocks.map(async (block) => (await snappyUncompress(block, { asBuffer: true })) as Buffer),
      );
      return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    }),
};

const LZ4_MAGIC = 0x184d2204;
/** Skippable frames (0x184D2A50–5F) carry no data. */
const isLz4SkippableMagic = (magic: number) => (magic & 0xfffffff0) === 0x184d2a50;
const LZ4_BLOCK_MAX_BYTES: Record<number, number> = {
  4: 64 * 1024,
  5: 256 * 1024,
  6: 1024 * 1024,
  7: 4 * 1024 * 1024,
};

/**
 * The most an LZ4 frame sequence can decompress to, read from its block headers without
 * decompressing: each block holds at most the frame's maximum block size (LZ4 frame format
 * §Block Maximum Size). lz4-napi decompresses whole frames with no output limit.
 */
export function lz4DecompressedBound(buffer: Buffer): number {
  const corrupt = (reason: string) => new UndecompressableBatchError('lz4', reason);
  let bound = 0;
  let offset = 0;
  while (offset < buffer.length) {
    if (offset + 4 > buffer.length) throw corrupt('a frame is truncated');
    const magic = buffer.readUInt32LE(offset);
    if (isLz4SkippableMagic(magic)) {
      if (offset + 8 > buffer.length) throw corrupt('a frame is truncated');
      offset += 8 + buffer.readUInt32LE(offset + 4);
      continue;
    }
    if (magic !== LZ4_MAGIC) throw corrupt('it is not in the LZ4 frame format');
    if (offset + 7 > buffer.length) throw corrupt('a frame is truncated');
    const flags = buffer[offset + 4] as number;
    const blockMaxBytes = LZ4_BLOCK_MAX_BYTES[((buffer[offset + 5] as number) >> 4) & 0x07];
    if (blockMaxBytes === undefined) throw corrupt('a frame declares an unknown block size');
    const blockChecksum = (flags & 0x10) !== 0;
    const contentSize = (flags & 0x08) !== 0;
    const contentChecksum = (flags & 0x04) !== 0;
    const dictionaryId = (flags & 0x01) !== 0;
    offset += 4 + 2 + (contentSize ? 8 : 0) + (dictionaryId ? 4 : 0) + 1;
    for (;;) {
      if (offset + 4 > buffer.length) throw corrupt('a frame is truncated');
      const blockSize = buffer.readUInt32LE(offset) & 0x7fffffff;
      offset += 4;
      if (blockSize === 0) break; // end mark
      bound += blockMaxBytes;
      if (bound > MAX_DECOMPRESSED_BATCH_BYTES) throw tooLarge('lz4', `over ${bound}`);
      offset += blockSize + (blockChecksum ? 4 : 0);
    }
    offset += contentChecksum ? 4 : 0;
  }
  return bound;
}

export const lz4Codec: KafkaCodec = {
  compress: (encoder) => compressFrame(encoder.buffer),
  decompress: (buffer) =>
    guarded('lz4', async () => {
      lz4DecompressedBound(buffer);
      return decompressFrame(buffer);
    }),
};

/** For codec ids Kafka has not assigned (5–7): the batch is reported, never misread. */
export function unknownCodec(id: number): KafkaCodec {
  const fail = async (): Promise<Buffer> => {
    throw new UndecompressableBatchError(`codec ${id}`, 'this codec is unknown to customer-sync');
  };
  return { compress: fail, decompress: fail };
}

export const KAFKA_CODECS: Record<CodecName, KafkaCodec> = {
  gzip: gzipCodec,
  snappy: snappyCodec,
  lz4: lz4Codec,
  zstd: zstdCodec,
};
