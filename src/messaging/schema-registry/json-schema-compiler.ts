import { Ajv, type AnySchema } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { canonicalJson } from '../../domain/canonical-json.ts';
import type { JsonValue } from '../../domain/customer-fields.ts';
import {
  createLinearTimeRegExpEngine,
  PatternWorkExceeded,
  type PatternWorkMeter,
} from './linear-time-regexp.ts';

/**
 * Compiles the JSON Schemas producers register, with the draft each one declares (2020-12,
 * 2019-09, else draft-07) and the standard formats. A fresh Ajv per schema: two versions of one
 * schema share an `$id`, which a single Ajv instance refuses to hold twice. Not strict: a
 * producer's schema may carry vendor keywords (e.g. `javaType`) that Ajv would reject.
 *
 * Bounded in time whatever the schema (SPEC §4.4): patterns run on a linear-time engine that
 * charges `meter` (see linear-time-regexp.ts), and `uniqueItems` is checked in linear time
 * (Ajv's own compares every pair of items unless their type is declared scalar: 16k distinct
 * items, 130 million comparisons). Formats are ajv-formats' fixed expressions, not the
 * producer's.
 *
 * Shaped as the one Ajv the Schema Registry library accepts (`addSchema` for references, then
 * `compile`).
 */
export function createJsonSchemaCompiler(meter: PatternWorkMeter): Ajv {
  const regExp = createLinearTimeRegExpEngine(meter);
  let references: Array<{ schema: AnySchema; key: string | undefined }> = [];
  const compiler = {
    addSchema(schema: AnySchema | AnySchema[], key?: string) {
      for (const one of Array.isArray(schema) ? schema : [schema])
        references.push({ schema: one, key });
      return compiler;
    },
    compile(schema: AnySchema) {
      const ajv = ajvFor(schema, regExp);
      for (const reference of references) ajv.addSchema(reference.schema, reference.key);
      references = [];
      return ajv.compile(schema);
    },
  };
  return compiler as unknown as Ajv;
}

function ajvFor(schema: AnySchema, regExp: ReturnType<typeof createLinearTimeRegExpEngine>): Ajv {
  const draft = typeof schema === 'object' ? String(schema.$schema ?? '') : '';
  const options = { strict: false, allowUnionTypes: true, code: { regExp } };
  const ajv = draft.includes('2020-12')
    ? new Ajv2020(options)
    : draft.includes('2019-09')
      ? new Ajv2019(options)
      : new Ajv(options);
  addFormats.default(ajv);
  ajv.removeKeyword('uniqueItems');
  ajv.addKeyword({
    keyword: 'uniqueItems',
    type: 'array',
    schemaType: 'boolean',
    error: { message: 'must NOT have duplicate items' },
    validate: (unique: boolean, items: unknown[]) => !unique || hasNoDuplicates(items),
  });
  return ajv;
}

/**
 * JSON equality, as JSON Schema defines it for `uniqueItems`, in one pass: equal values have
 * equal canonical texts (keys sorted). The texts together are about the size of the array.
 */
export function hasNoDuplicates(items: readonly unknown[]): boolean {
  const seen = new Set<string>();
  for (const item of items) {
    const key = canonicalJson(item as JsonValue);
    if (seen.has(key)) return false;
    seen.add(key);
  }
  return true;
}

/** A compiled JSON Schema: holds a decoded JSON value to it, in bounded time. */
export interface JsonWriterSchema {
  validate(value: unknown): JsonSchemaVerdict;
}

export type JsonSchemaVerdict =
  | { ok: true }
  /** JSON Pointers of the instance where it fails (`/data/phone`): field names, never values. */
  | { ok: false; paths: string[] }
  /** Its patterns would cost more than one message's budget (linear-time-regexp.ts). */
  | { ok: false; tooCostly: true };

/** The library's JsonSchema: `isValid` reports each failing instance path to `errorHook`. */
export interface LibraryJsonSchema {
  isValid(payload: object, opts: { errorHook: (path: string[]) => void }): boolean;
}

/**
 * Each validation gets the whole pattern budget; running out of it is a verdict, not a throw.
 * So is anything else a producer's schema makes Ajv throw (a stack overflow on a recursive
 * `$ref`): the value cannot be held to its schema, and a throw would stall the partition.
 */
export function boundedJsonSchema(
  schema: LibraryJsonSchema,
  meter: PatternWorkMeter,
): JsonWriterSchema {
  return {
    validate(value) {
      const paths: string[] = [];
      meter.reset();
      try {
        const valid = schema.isValid(value as object, {
          errorHook: (path) => paths.push(String(path[0] ?? '')),
        });
        return valid ? { ok: true } : { ok: false, paths };
      } catch (error) {
        if (error instanceof PatternWorkExceeded) return { ok: false, tooCostly: true };
        return { ok: false, paths: [] };
      }
    },
  };
}
