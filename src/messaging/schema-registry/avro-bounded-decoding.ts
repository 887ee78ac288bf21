/**
 * Avro binary decoding that no message can turn into a crash (SPEC §4.4: decoding is bounded in
 * memory and time). avsc reads lengths and counts as they come and checks for a short buffer
 * only at the end, so a 124-byte value declaring 10⁹ `loanIds` makes it allocate until the heap
 * runs out; it also decodes strings lossily (invalid UTF-8 becomes U+FFFD), which plain JSON
 * refuses.
 *
 * So before avsc reads a value, one pass over the bytes walks the writer schema as the Avro
 * specification lays the binary out, allocating nothing, and refuses
 * - a string, bytes or a block count (array or map) that declares more than the bytes left
 *   (`decode.length_exceeds_message`), checked before anything is read for it;
 * - a string that is not valid UTF-8 (`decode.malformed`, as in plain JSON);
 * - more nesting or more values than DECODING_LIMITS (a count of zero-byte items such as
 *   `null`s costs no bytes, so bytes alone cannot bound it);
 * - bytes that do not follow the schema (a bad union index, a value cut short:
 *   `schema.mismatch`).
 * What passes is then read by avsc, which can allocate no more than the bytes and the values
 * counted here. The pass uses only avsc's public type accessors (typeName, fields, itemsType,
 * valuesType, types, size, underlyingType), never its reader internals: a pre-pass rather than a
 * patched reader, so an avsc upgrade cannot silently undo it.
 */
import { isUtf8 } from 'node:buffer';
import type { Type } from 'avsc';
import type { DecodeResult } from '../../contracts/customer-update-requested.ts';
import {
  DECODING_LIMITS,
  type StructureLimits,
  tooDeep,
  tooManyValues,
} from '../../contracts/decoding-limits.ts';
import { ERROR_CODES, type ValidationFailure } from '../../contracts/error-codes.ts';

/**
 * `bytes` (the payload after the wire-format header) read with the writer's `type`, or why it
 * cannot be. `schemaId` only names the schema in failure messages. Never throws.
 */
export function decodeAvroBounded(
  type: Type,
  bytes: Buffer,
  schemaId: number,
  limits: StructureLimits = DECODING_LIMITS,
): DecodeResult {
  const problem = checkAvroBinary(type, bytes, limits);
  if (problem !== undefined) {
    return { ok: false, failure: problem === MISMATCH ? mismatch(schemaId) : problem };
  }
  try {
    return { ok: true, value: type.fromBuffer(bytes) };
  } catch {
    // What the walk cannot see (an enum index out of range, a long past 2^53, trailing bytes).
    // avsc's message may quote the bytes it read: not passed on (PII).
    return { ok: false, failure: mismatch(schemaId) };
  }
}

function mismatch(schemaId: number): ValidationFailure {
  return {
    code: ERROR_CODES.schemaMismatch,
    message: `the value does not decode with its Avro schema (id ${schemaId})`,
  };
}

/** The bytes do not follow the schema; the caller words it with the schema id. */
const MISMATCH = Symbol('mismatch');
type Problem = ValidationFailure | typeof MISMATCH;

/** Avro longs are zig-zag varints of at most 10 bytes (64 bits, 7 per byte). */
const MAX_VARINT_BYTES = 10;

/** The walk over one value: a cursor, the values counted so far, the field names on the way. */
class AvroBinaryWalk {
  position = 0;
  values = 0;
  depth = 0;
  readonly path: string[] = [];
  readonly bytes: Buffer;
  readonly limits: StructureLimits;

  constructor(bytes: Buffer, limits: StructureLimits) {
    this.bytes = bytes;
    this.limits = limits;
  }

  get left(): number {
    return this.bytes.length - this.position;
  }

  /** A zig-zag varint, or undefined when it runs past the end or past 10 bytes. */
  readLong(): number | undefined {
    let result = 0;
    let factor = 1;
    for (let count = 0; count < MAX_VARINT_BYTES; count += 1) {
      const byte = this.bytes[this.position];
      if (byte === undefined) return undefined;
      this.position += 1;
      result += (byte & 0x7f) * factor;
      if ((byte & 0x80) === 0) return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
      factor *= 128;
    }
    return undefined;
  }

  skip(count: number): Problem | undefined {
    if (count > this.left) return MISMATCH;
    this.position += count;
    return undefined;
  }

  where(): string {
    return this.path.length > 0 ? this.path.join('.') : 'the Avro value';
  }

  exceeds(what: string, declared: number): ValidationFailure {
    const where = this.where();
    return {
      code: ERROR_CODES.decodeLengthExceedsMessage,
      message: `${where} declares ${declared} ${what}, more than the ${this.left} bytes left in the message can hold`,
      ...(this.path.length > 0 ? { path: where } : {}),
    };
  }
}

/** The reason `bytes` cannot be read safely with `type`, or undefined when avsc may read it. */
export function checkAvroBinary(
  type: Type,
  bytes: Buffer,
  limits: StructureLimits = DECODING_LIMITS,
): Problem | undefined {
  const walk = new AvroBinaryWalk(bytes, limits);
  return visit(type, walk);
}

function visit(type: Type, walk: AvroBinaryWalk): Problem | undefined {
  walk.values += 1;
  if (walk.values > walk.limits.maxValues) return tooManyValues(walk.limits, 'the Avro value');
  const typeName = type.typeName;
  switch (typeName) {
    case 'null':
      return undefined;
    case 'boolean':
      return walk.skip(1);
    case 'int':
    case 'long':
    case 'abstract:long':
    case 'enum':
      return walk.readLong() === undefined ? MISMATCH : undefined;
    case 'float':
      return walk.skip(4);
    case 'double':
      return walk.skip(8);
    case 'fixed':
      return walk.skip((type as unknown as { size: number }).size);
    case 'bytes':
    case 'string':
      return visitLengthPrefixed(walk, typeName === 'string');
    case 'record':
    case 'error':
    case 'array':
    case 'map':
      return visitContainer(type, walk);
    case 'union:unwrapped':
    case 'union:wrapped': {
      const index = walk.readLong();
      const branch =
        index === undefined ? undefined : (type as unknown as { types: Type[] }).types[index];
      return branch === undefined ? MISMATCH : visit(branch, walk);
    }
    default: {
      // logical:<name>: laid out as its underlying type.
      const underlying = (type as unknown as { underlyingType?: Type }).underlyingType;
      if (typeName.startsWith('logical:') && underlying !== undefined) {
        walk.values -= 1; // the same value, seen through its logical type
        return visit(underlying, walk);
      }
      return MISMATCH;
    }
  }
}

function visitContainer(type: Type, walk: AvroBinaryWalk): Problem | undefined {
  walk.depth += 1;
  if (walk.depth > walk.limits.maxDepth) return tooDeep(walk.limits, 'the Avro value');
  const problem =
    type.typeName === 'array'
      ? visitBlocks(walk, (type as unknown as { itemsType: Type }).itemsType, false)
      : type.typeName === 'map'
        ? visitBlocks(walk, (type as unknown as { valuesType: Type }).valuesType, true)
        : visitRecord(type, walk);
  walk.depth -= 1;
  return problem;
}

function visitLengthPrefixed(walk: AvroBinaryWalk, isString: boolean): Problem | undefined {
  const length = walk.readLong();
  if (length === undefined || length < 0) return MISMATCH;
  if (length > walk.left) return walk.exceeds('bytes', length);
  const start = walk.position;
  walk.position += length;
  if (
    isString &&
    !isAscii(walk.bytes, start, walk.position) &&
    !isUtf8(walk.bytes.subarray(start, walk.position))
  ) {
    const where = walk.where();
    return {
      code: ERROR_CODES.decodeMalformed,
      message: `${where} is not valid UTF-8`,
      ...(walk.path.length > 0 ? { path: where } : {}),
    };
  }
  return undefined;
}

/** Most strings are short and ASCII: checked in place, without a view for isUtf8. */
function isAscii(bytes: Buffer, start: number, end: number): boolean {
  if (end - start > 64) return false;
  for (let index = start; index < end; index += 1) {
    if ((bytes[index] as number) >= 0x80) return false;
  }
  return true;
}

function visitRecord(type: Type, walk: AvroBinaryWalk): Problem | undefined {
  for (const field of (type as unknown as { fields: Array<{ name: string; type: Type }> }).fields) {
    walk.path.push(field.name);
    const problem = visit(field.type, walk);
    if (problem !== undefined) return problem;
    walk.path.pop();
  }
  return undefined;
}

/**
 * Array items or map entries, in blocks: a count (negative: followed by the block's byte size),
 * the items, and a zero count at the end. Each count is checked against the bytes left (every
 * item needs at least its smallest encoding) and against the values still allowed, before a
 * single item is read, so neither this walk nor avsc's `new Array(count)` ever sees a huge one.
 */
function visitBlocks(walk: AvroBinaryWalk, itemType: Type, isMap: boolean): Problem | undefined {
  const itemBytes = smallestEncoding(itemType) + (isMap ? 1 : 0); // a map key is a string
  for (;;) {
    let count = walk.readLong();
    if (count === undefined) return MISMATCH;
    if (count === 0) return undefined;
    if (count < 0) {
      count = -count;
      const blockBytes = walk.readLong();
      if (blockBytes === undefined || blockBytes < 0) return MISMATCH;
    }
    const what = isMap ? 'entries' : 'items';
    if (count * itemBytes > walk.left) return walk.exceeds(what, count);
    if (walk.values + count > walk.limits.maxValues) {
      return tooManyValues(walk.limits, 'the Avro value');
    }
    for (let item = 0; item < count; item += 1) {
      if (isMap) {
        const key = visitLengthPrefixed(walk, true);
        if (key !== undefined) return key;
      }
      const problem = visit(itemType, walk);
      if (problem !== undefined) return problem;
    }
  }
}

const smallestEncodings = new WeakMap<Type, number>();

/** The fewest bytes a value of `type` can take: what a declared count is multiplied by. */
function smallestEncoding(type: Type): number {
  const known = smallestEncodings.get(type);
  if (known !== undefined) return known;
  smallestEncodings.set(type, 0); // a record that contains itself: its own size counts as 0
  const size = computeSmallestEncoding(type);
  smallestEncodings.set(type, size);
  return size;
}

function computeSmallestEncoding(type: Type): number {
  switch (type.typeName) {
    case 'null':
      return 0;
    case 'float':
      return 4;
    case 'double':
      return 8;
    case 'fixed':
      return (type as unknown as { size: number }).size;
    case 'record':
    case 'error': {
      let total = 0;
      for (const field of (type as unknown as { fields: Array<{ type: Type }> }).fields) {
        total += smallestEncoding(field.type);
      }
      return total;
    }
    default: {
      const underlying = (type as unknown as { underlyingType?: Type }).underlyingType;
      if (type.typeName.startsWith('logical:') && underlying !== undefined) {
        return smallestEncoding(underlying);
      }
      // boolean, int, long, enum, bytes, string (a length), array, map (a count), union (an index)
      return 1;
    }
  }
}
