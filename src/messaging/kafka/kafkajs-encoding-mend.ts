import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  applyFixes,
  packageVersion,
  registerSourceMends,
  type SourceFix,
  type SourceMend,
  unappliedFixes,
} from '../../start-up/source-mends.ts';

/**
 * kafkajs 2.2.4 (its last release, 2023; the project is unmaintained) spends ~13 µs of CPU and
 * allocates ~10 KiB per message it produces, most of it in places its output does not need
 * (`node bench/produce-encoding-cost.ts`, on sends of the relay's shape):
 *
 * - grouping a send's messages by partition copies the partition's array for every message:
 *   quadratic in the messages per partition, ~2.4 KiB per message in a 1,000-message send;
 * - every varint is built as an array, then copied into a new Buffer and from it into the
 *   encoder's; every varlong (a record's timestamp delta) goes through 64-bit `Long` objects;
 * - every encoder zero-fills buffers it then overwrites (it only ever exposes the bytes it
 *   wrote), and a record takes one encoder for itself, grown by copying, and one per header;
 * - the record batch's CRC32C is computed in JavaScript, a byte at a time (~2 ns per byte).
 *
 * The relay publishes every announcement through it, so the service mends those places as
 * kafkajs loads: the partitions are grouped in one pass, varints written in place (a varlong
 * that fits 32 bits is the same bytes as a varint), encoders' buffers not zeroed, a record
 * written into one buffer of its size, headers included, and the CRC32C computed by
 * `@node-rs/crc32` (SIMD, napi-rs; the same checksum, 30x faster). Measured: 13.5 -> 3.0 µs
 * and 10.1 -> 1.4 KiB per message. The bytes on the wire are the same, to the bit:
 * test/unit/kafkajs-encoding-mend.test.ts encodes produce requests with the released and the
 * mended source and compares them, and every integration test produces through the mended
 * client to a real broker, which checks each batch's CRC.
 *
 * Written for exactly kafkajs 2.2.4 (package.json pins it): a kafkajs whose source the mend
 * does not fit stops the service at start-up with one line saying so.
 */
/** The version kafkajs-encoding-mend.ts was written and tested for (package.json pins it). */
export const MENDED_KAFKAJS_VERSION = '2.2.4';

const projectRequire = createRequire(import.meta.url);
const NATIVE_CRC32 = projectRequire.resolve('@node-rs/crc32');

const FIXES_BY_FILE: Record<string, readonly SourceFix[]> = {
  'src/producer/groupMessagesPerPartition.js': [
    [
      `  return messages.reduce((result, message) => {
    const partition = partitioner({ topic, partitionMetadata, message })
    const current = result[partition] || []
    return Object.assign(result, { [partition]: [...current, message] })
  }, {})`,
      `  const result = {}
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message })
    const current = result[partition]
    if (current === undefined) result[partition] = [message]
    else current.push(message)
  }
  return result`,
    ],
  ],
  'src/protocol/encoder.js': [
    [
      'this.buf = Buffer.alloc(Encoder.nextPowerOfTwo(initialSize))',
      'this.buf = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(initialSize))',
    ],
    [
      'const newBuffer = Buffer.alloc(newLength)',
      'const newBuffer = Buffer.allocUnsafe(newLength)',
    ],
    [
      `  writeUVarInt(value) {
    const byteArray = []
    while ((value & UNSIGNED_INT32_MAX_NUMBER) !== 0) {
      byteArray.push((value & OTHER_BITS) | MOST_SIGNIFICANT_BIT)
      value >>>= 7
    }
    byteArray.push(value & OTHER_BITS)
    this.writeBufferInternal(Buffer.from(byteArray))
    return this
  }`,
      // Five bytes at most: after the first shift the value is an unsigned 32-bit integer.
      `  writeUVarInt(value) {
    this.ensureAvailable(5)
    while ((value & UNSIGNED_INT32_MAX_NUMBER) !== 0) {
      this.buf[this.offset++] = (value & OTHER_BITS) | MOST_SIGNIFICANT_BIT
      value >>>= 7
    }
    this.buf[this.offset++] = value & OTHER_BITS
    return this
  }`,
    ],
    [
      `  writeVarLong(value) {
    const byteArray = []`,
      // The zigzag of a 32-bit integer taken in 64 bits has the bits of its 32-bit zigzag.
      `  writeVarLong(value) {
    if (typeof value === 'number' && (value | 0) === value) return this.writeVarInt(value)
    const byteArray = []`,
    ],
    [
      `  static sizeOfVarLong(value) {
    let longValue`,
      `  static sizeOfVarLong(value) {
    if (typeof value === 'number' && (value | 0) === value) return Encoder.sizeOfVarInt(value)
    let longValue`,
    ],
  ],
  'src/protocol/recordBatch/record/v0/index.js': [
    // One buffer of the record's size (plus the varint of its length), grown never, with the
    // headers written into it: the bytes the released code copies from an encoder per header.
    [
      `  return new Encoder()
    .writeVarInt(sizeOfBody)`,
      `  const encoder = new Encoder(sizeOfBody + 5)
    .writeVarInt(sizeOfBody)`,
    ],
    [
      `    .writeVarIntArray(headersArray.map(Header))
}`,
      `    .writeVarInt(headersArray.length)
  for (const header of headersArray) {
    encoder.writeVarIntString(header.key).writeVarIntBytes(header.value)
  }
  return encoder
}`,
    ],
  ],
  'src/protocol/recordBatch/crc32C/index.js': [
    [
      `const crc32C = require('./crc32C')
const unsigned = value => Uint32Array.from([value])[0]

module.exports = buffer => unsigned(crc32C(buffer))`,
      `const { crc32c } = require(${JSON.stringify(NATIVE_CRC32)})

module.exports = buffer => crc32c(buffer)`,
    ],
  ],
};

/**
 * The mends of the files of the kafkajs in `kafkajsDirectory`, and of no other copy (a nested
 * kafkajs of another version, which nothing checked, is left as it is).
 */
function mendsOf(kafkajsDirectory: string): SourceMend[] {
  return MENDED_KAFKAJS_FILES.map((file) => {
    const url = pathToFileURL(join(kafkajsDirectory, file)).href;
    return {
      matches: (loaded) => loaded === url,
      mend: (source) => mendKafkajsSource(file, source),
    };
  });
}

/** The installed kafkajs is not the one the mend was written for. */
export class KafkajsMendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KafkajsMendError';
  }
}

let installed = false;

/** The directory of the installed kafkajs, as our own imports of it resolve. */
export function installedKafkajsDirectory(): string {
  return dirname(projectRequire.resolve('kafkajs/package.json'));
}

/**
 * Checks that every fix applies to the kafkajs in `kafkajsDirectory`, then mends its source as
 * it loads. Call before anything loads kafkajs; throws a KafkajsMendError (one line: which
 * version, which file) when a fix does not apply.
 */
export function installKafkajsEncodingMend(kafkajsDirectory = installedKafkajsDirectory()): void {
  if (installed) return;
  verifyKafkajsMend(kafkajsDirectory);
  verifyNativeCrc32c();
  installed = true;
  registerSourceMends(mendsOf(kafkajsDirectory));
}

/** Throws a KafkajsMendError unless every fix applies to the kafkajs in `kafkajsDirectory`. */
export function verifyKafkajsMend(kafkajsDirectory: string): void {
  const version = packageVersion(kafkajsDirectory);
  for (const [file, fixes] of Object.entries(FIXES_BY_FILE)) {
    let source: string;
    try {
      source = readFileSync(join(kafkajsDirectory, file), 'utf8');
    } catch {
      throw new KafkajsMendError(
        `kafkajs ${version}: ${file} cannot be read, so its mend cannot be applied (run npm ci)`,
      );
    }
    const missing = unappliedFixes(source, fixes);
    if (missing > 0) {
      throw new KafkajsMendError(
        `kafkajs ${version} is not the version src/messaging/kafka/kafkajs-encoding-mend.ts was written for (${MENDED_KAFKAJS_VERSION}): ${missing} of its ${fixes.length} fixes do not apply to ${file}; install the pinned version (npm ci) or rewrite the mend`,
      );
    }
  }
}

/** CRC-32C of the nine bytes "123456789": the check value of the algorithm. */
const CRC32C_CHECK_VALUE = 0xe3069283;

/**
 * Throws a KafkajsMendError unless `@node-rs/crc32`'s native CRC32C loads on this platform and
 * computes the check value: the mended kafkajs requires it, and a binary missing for the
 * platform would otherwise surface as a crash from deep inside the first import of kafkajs.
 */
export function verifyNativeCrc32c(
  load: () => (input: Buffer) => number = () => projectRequire(NATIVE_CRC32).crc32c,
): void {
  let checksum: number;
  try {
    checksum = load()(Buffer.from('123456789'));
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new KafkajsMendError(
      `the native CRC32C of @node-rs/crc32, which the kafkajs mend uses, does not load on ${process.platform}-${process.arch} (${reason}); reinstall with npm ci on this platform`,
    );
  }
  if (checksum !== CRC32C_CHECK_VALUE) {
    throw new KafkajsMendError(
      `the native CRC32C of @node-rs/crc32 gives ${checksum} for the check input, not ${CRC32C_CHECK_VALUE}; the kafkajs mend cannot use it`,
    );
  }
}

/** `source` of kafkajs' `file` (a path inside the package) as the mend runs it. */
export function mendKafkajsSource(file: string, source: string): string {
  const fixes = FIXES_BY_FILE[file];
  if (fixes === undefined) return source;
  return applyFixes(source, fixes, () => new KafkajsMendError(`kafkajs ${file} changed`));
}

/** The files the mend changes, as paths inside the kafkajs package. */
export const MENDED_KAFKAJS_FILES = Object.keys(FIXES_BY_FILE);
