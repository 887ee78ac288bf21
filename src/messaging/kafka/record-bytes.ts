import type { IHeaders, Message } from 'kafkajs';

/**
 * What one record can take in a record batch, uncompressed, at most: Kafka's v2 record is a
 * length, attributes, timestamp and offset deltas (varints, at most 5 + 1 + 10 + 5 bytes), the
 * key and value each behind a varint length, and the headers behind a varint count, each
 * header a varint-prefixed key and value. Counted generously: a send that fits by this count
 * fits on the wire, compressed or not.
 */
const RECORD_FRAMING_BYTES = 5 + 1 + 10 + 5 + 5 + 5 + 5;
const HEADER_FRAMING_BYTES = 5 + 5;

/**
 * The broker measures a partition's record batch, header included (61 bytes, and the 12 of
 * the log entry), against message.max.bytes. The records of one send are at most one batch
 * per partition, so a send whose records fit the limit less this fits the broker too.
 */
export const RECORD_BATCH_OVERHEAD_BYTES = 61 + 12;

function bytesOf(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

function headerBytes(headers: IHeaders | undefined): number {
  let total = 0;
  for (const [name, value] of Object.entries(headers ?? {})) {
    const values = Array.isArray(value) ? value : [value];
    for (const one of values)
      total += HEADER_FRAMING_BYTES + Buffer.byteLength(name) + bytesOf(one);
  }
  return total;
}

/** The bytes a message takes in a record batch, uncompressed, counted from above. */
export function recordBytes(message: Message): number {
  return (
    RECORD_FRAMING_BYTES +
    bytesOf(message.key) +
    bytesOf(message.value) +
    headerBytes(message.headers)
  );
}

/**
 * Splits items, in order, into runs whose sizes add up to at most `budget`. An item larger
 * than the budget on its own gets a run of its own: whether it can be delivered is the
 * broker's to say (compressed, it may still fit), and alone its refusal holds up nothing else.
 */
export function splitByBytes<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  budget: number,
): T[][] {
  const runs: T[][] = [];
  let run: T[] = [];
  let runBytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (run.length > 0 && runBytes + size > budget) {
      runs.push(run);
      run = [];
      runBytes = 0;
    }
    run.push(item);
    runBytes += size;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}
