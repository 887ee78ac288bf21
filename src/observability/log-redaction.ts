import { scrubErrorMessage, serializeError, stackFrames } from './error-serializer.ts';

/**
 * SPEC §8: personal data never reaches a log line. Our own log calls pass codes, field names
 * and offsets; this pass over every record (and every child logger's bindings) is the second
 * line of defence for the day someone logs an event, a row, a driver error or a Kafka message
 * by mistake. pino's `redact` paths have a fixed depth; this walks the whole record:
 *
 * - a value under a key that names customer data (or a secret, a payload, query parameters) is
 *   replaced, at any depth, whatever its type;
 * - an Error, anywhere, and whatever is logged under `err`, `error` or `failure`, is written by
 *   the one error serializer (error-serializer.ts);
 * - bytes are replaced by their length, `stack` strings keep their frames only;
 * - below MAX_DEPTH nothing is written, so depth cannot smuggle anything past the pass.
 *
 * A record with nothing to change is returned as it is, without a copy.
 */

/** Key names compared lower-cased, without `_` and `-`: `first_name`, `firstName`, `FIRST-NAME`. */
const SENSITIVE_KEYS = new Set([
  // SPEC §8: names, email, phone, birthday, SSN digits, address (and the rest of the profile)
  'firstname',
  'lastname',
  'email',
  'phone',
  'birthday',
  'ssn',
  'ssnlast4',
  'address',
  'address1',
  'address2',
  'city',
  'state',
  'zip',
  'timezone',
  'metadata',
  // what carries them: event data, message payloads and headers, rows, query parameters
  'data',
  'payload',
  'value',
  'values',
  'headers',
  'row',
  'rows',
  'parameters',
  'params',
  'args',
  'query',
  'detail',
  // secrets
  'password',
  'token',
  'authorization',
  'secret',
  'apikey',
]);

const ERROR_KEYS = new Set(['err', 'error', 'failure']);
const REDACTED = '[redacted]';
const MAX_DEPTH = 8;

function normalisedKey(key: string): string {
  return key.toLowerCase().replace(/[_-]/g, '');
}

/** The record as it may be written; the same object when nothing in it needed a change. */
export function redactLogRecord<Record extends object>(record: Record): Record {
  return redactObject(record, 0) as Record;
}

function redactObject(object: object, depth: number): unknown {
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(object)) {
    const value = (object as Record<string, unknown>)[key];
    const redacted = redactEntry(key, value, depth);
    if (redacted !== value) {
      copy ??= { ...(object as Record<string, unknown>) };
      copy[key] = redacted;
    }
  }
  return copy ?? object;
}

function redactEntry(key: string, value: unknown, depth: number): unknown {
  if (value === undefined || value === null) return value;
  const normalised = normalisedKey(key);
  if (SENSITIVE_KEYS.has(normalised)) return REDACTED;
  if (ERROR_KEYS.has(normalised)) return redactErrorValue(value, depth);
  if (normalised === 'stack' && typeof value === 'string') return stackFrames(value);
  return redactValue(value, depth + 1);
}

function redactErrorValue(value: unknown, depth: number): unknown {
  // kafkajs logs `error: <message>`: a message like any other.
  if (typeof value === 'string') return scrubErrorMessage(value);
  if (value instanceof Error || typeof value !== 'object') return serializeError(value);
  return redactValue(value, depth + 1);
}

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_DEPTH) return '[too deep]';
  if (value instanceof Error) return serializeError(value);
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (value instanceof Date) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, index) => {
      const redacted = redactValue(item, depth + 1);
      if (redacted !== item) {
        copy ??= [...value];
        copy[index] = redacted;
      }
    });
    return copy ?? value;
  }
  if (value instanceof Map || value instanceof Set) return `[${value.constructor.name}]`;
  return redactObject(value, depth);
}
