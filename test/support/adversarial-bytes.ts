/**
 * Bytes a hostile or broken producer could send, for the decoders' properties (SPEC §4.4).
 */
import fc from 'fast-check';

/** A zig-zag varint, as Avro writes a long (any size: hostile producers are not avsc). */
export function varint(value: number): Buffer {
  let zigzag = BigInt(value) >= 0n ? BigInt(value) * 2n : -BigInt(value) * 2n - 1n;
  const bytes: number[] = [];
  do {
    const low = Number(zigzag & 0x7fn);
    zigzag >>= 7n;
    bytes.push(zigzag > 0n ? low | 0x80 : low);
  } while (zigzag > 0n);
  return Buffer.from(bytes);
}

/**
 * Bytes a hostile or broken producer could send: random bytes, and a valid value with bytes
 * changed, cut short, or a huge varint (a count or length) spliced in.
 */
export function adversarialAvro(valid: Buffer): fc.Arbitrary<Buffer> {
  const huge = fc.oneof(
    fc.integer({ min: 1_000, max: 2 ** 31 }),
    fc.constantFrom(2 ** 40, 2 ** 53, -(2 ** 31)),
  );
  return fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
    fc.nat({ max: valid.length }).map((end) => valid.subarray(0, end)),
    fc
      .tuple(fc.nat({ max: Math.max(valid.length - 1, 0) }), fc.integer({ min: 0, max: 255 }))
      .map(([at, byte]) => {
        const changed = Buffer.from(valid);
        if (changed.length > 0) changed[at] = byte;
        return changed;
      }),
    fc
      .tuple(fc.nat({ max: valid.length }), huge, fc.boolean())
      .map(([at, count, cut]) =>
        Buffer.concat([
          valid.subarray(0, at),
          varint(count),
          cut ? Buffer.alloc(0) : valid.subarray(at + 1),
        ]),
      ),
  );
}
