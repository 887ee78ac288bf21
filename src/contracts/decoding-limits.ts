/**
 * How much structure one message may have before it is decoded (SPEC §4.4: decoding is bounded
 * in memory and time, whatever a producer sends). Message size alone is not enough: V8's
 * JSON.parse needs ~20x a value's size for `[{},{},…]` or deep nesting, and its time grows
 * faster than linearly with the keys of one object (1M keys in 9 MB: 2.4 s), so a value that
 * fits MAX_MESSAGE_BYTES could still stall a partition.
 *
 * Both limits sit well above anything the contract accepts, so they never refuse a valid event
 * and an invalid one still gets the contract's own, more precise, answer up to them:
 * - depth: the envelope (1), `data` (2) and `metadata` with its 32 levels (LIMITS.metadataDepth)
 *   reach 34 at most;
 * - values: `metadata` is at most 16 KiB serialised (at most ~8,200 values, `[0,0,…]`),
 *   `loanIds` at most 1,000, and the envelope and `data` about 30 more: ~9,300 in all.
 */
import { LIMITS } from '../domain/customer-field-rules.ts';
import { ERROR_CODES, type ValidationFailure } from './error-codes.ts';

export interface StructureLimits {
  /** Objects and arrays (or Avro records, arrays and maps) inside one another, the root being 1. */
  maxDepth: number;
  /** Values in the whole message: the root, every array item, every member (or Avro field, entry). */
  maxValues: number;
}

export const DECODING_LIMITS: StructureLimits = {
  maxDepth: 64,
  maxValues: 16_384,
};

// The limits must stay above what the contract itself accepts (see the module comment).
const DEEPEST_VALID = 2 + LIMITS.metadataDepth;
const MOST_VALUES_VALID = LIMITS.metadataBytes / 2 + LIMITS.loanIds + 100;
if (DECODING_LIMITS.maxDepth < DEEPEST_VALID || DECODING_LIMITS.maxValues < MOST_VALUES_VALID) {
  throw new Error('DECODING_LIMITS must not refuse what the contract accepts');
}

export function tooDeep(limits: StructureLimits, where = 'the message value'): ValidationFailure {
  return {
    code: ERROR_CODES.decodeTooDeep,
    message: `${where} nests deeper than ${limits.maxDepth} levels`,
  };
}

export function tooManyValues(
  limits: StructureLimits,
  where = 'the message value',
): ValidationFailure {
  return {
    code: ERROR_CODES.decodeTooManyValues,
    message: `${where} holds more than ${limits.maxValues} values`,
  };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * Refuses JSON text nested deeper or holding more values than `limits`, before JSON.parse
 * builds anything. Text that is not JSON passes (JSON.parse then says so); only what valid
 * JSON would build is measured. Linear in the text, and for a usual message (a handful of
 * brackets, tens of commas) only a few native `indexOf` scans: most messages never take the
 * character-by-character walk.
 */
export function checkJsonStructure(
  text: string,
  limits: StructureLimits = DECODING_LIMITS,
  where?: string,
): ValidationFailure | undefined {
  // Brackets and commas inside strings are counted too, so these are upper bounds: below the
  // limits, the exact walk cannot find more.
  const brackets = countUpTo(text, '{', limits.maxDepth) + countUpTo(text, '[', limits.maxDepth);
  if (
    brackets <= limits.maxDepth &&
    brackets + countUpTo(text, ',', limits.maxValues) < limits.maxValues
  ) {
    return undefined;
  }
  return walkJsonStructure(text, limits, where);
}

/** Occurrences of `char` in `text`, counting no further than `limit + 1`. */
function countUpTo(text: string, char: string, limit: number): number {
  let count = 0;
  for (let at = text.indexOf(char); at !== -1 && count <= limit; at = text.indexOf(char, at + 1)) {
    count += 1;
  }
  return count;
}

function walkJsonStructure(
  text: string,
  limits: StructureLimits,
  where: string | undefined,
): ValidationFailure | undefined {
  let depth = 0;
  let values = 1; // the root
  let firstInContainer = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text.charCodeAt(index);
    if (char === 0x20 || char === 0x0a || char === 0x0d || char === 0x09) continue;
    if (firstInContainer) {
      firstInContainer = false;
      if (char !== CLOSE_BRACE && char !== CLOSE_BRACKET) values += 1;
    }
    switch (char) {
      case QUOTE:
        index = endOfString(text, index);
        if (index === -1) return undefined; // unterminated: not JSON
        break;
      case OPEN_BRACE:
      case OPEN_BRACKET:
        depth += 1;
        if (depth > limits.maxDepth) return tooDeep(limits, where);
        firstInContainer = true;
        break;
      case CLOSE_BRACE:
      case CLOSE_BRACKET:
        depth -= 1;
        break;
      case COMMA:
        values += 1;
        break;
    }
    if (values > limits.maxValues) return tooManyValues(limits, where);
  }
  return undefined;
}

/** The index of the quote that closes the string opened at `open`, or -1. */
function endOfString(text: string, open: number): number {
  let close = text.indexOf('"', open + 1);
  while (close !== -1) {
    let backslashes = 0;
    while (text.charCodeAt(close - 1 - backslashes) === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return close;
    close = text.indexOf('"', close + 1);
  }
  return -1;
}
