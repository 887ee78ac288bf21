import {
  CUSTOMER_FIELDS,
  type CustomerFieldName,
  type CustomerFieldValues,
  type JsonObject,
  type JsonValue,
} from './customer-fields.ts';
import type { CustomerRecord } from './customer-record.ts';
import {
  foldTombstones,
  METADATA_ROOT_KEY,
  type MetadataRegisters,
  type MetadataTombstones,
} from './metadata-registers.ts';
import { type StampOrigin, stampOrigin } from './stamp.ts';

/**
 * Who set a field's current state, read from the stamps the merge keeps (SPEC §4.3): the event
 * whose stamp it holds, enrichment (SPEC §6, ENRICHMENT_STAMP), or nobody yet. A write of the
 * current value still moves the stamp, so this is the last write, not the last change.
 */
export type LastWrite = StampOrigin | { kind: 'never' };

export interface FieldProvenance {
  field: CustomerFieldName;
  /** the field holds a value; a cleared field (`null`) holds none */
  hasValue: boolean;
  value: CustomerFieldValues[CustomerFieldName];
  lastWrite: LastWrite;
}

/** One path the metadata merge patches touched (SPEC §3, RFC 7396), below the root. */
export interface MetadataKeyProvenance {
  /** the keys from the document's root down to this one */
  path: string[];
  /** what the last write there did: set a value, deleted the key, or merged into an object */
  state: 'value' | 'object' | 'deleted';
  hasValue: boolean;
  value: JsonValue | undefined;
  lastWrite: LastWrite;
}

export interface MetadataProvenance {
  hasValue: boolean;
  value: JsonObject;
  /** the latest event that touched metadata at all */
  lastWrite: LastWrite;
  /** the latest `metadata: null` (everything older below it is gone) */
  lastCleared: LastWrite | undefined;
  /** in path order */
  keys: MetadataKeyProvenance[];
}

/** Every customer field, in CUSTOMER_FIELDS order, with the write that set it. */
export function fieldProvenance(record: CustomerRecord): FieldProvenance[] {
  return CUSTOMER_FIELDS.map((field) => {
    const stamp = record.stamps[field];
    const value = record.values[field];
    return {
      field,
      hasValue: value !== null && value !== undefined,
      value: value ?? null,
      lastWrite: stamp === undefined ? { kind: 'never' } : stampOrigin(stamp),
    };
  });
}

/**
 * The metadata document and, for every path a patch touched, the write that decided it. The
 * registers hold no path an ancestor's newer reset hides (metadata-registers.ts drops them), so
 * each one is either visible in the document or a deletion that still stands; the deletions
 * are the customer's tombstones, stored apart from its registers and folded back in here.
 */
export function metadataProvenance(
  storedRegisters: MetadataRegisters,
  metadata: JsonObject,
  tombstones: MetadataTombstones = {},
): MetadataProvenance {
  const registers = foldTombstones(storedRegisters, tombstones);
  const root = registers[METADATA_ROOT_KEY];
  const keys: MetadataKeyProvenance[] = [];
  for (const [pathKey, register] of Object.entries(registers)) {
    if (pathKey === METADATA_ROOT_KEY) continue;
    const path = JSON.parse(pathKey) as string[];
    const value = valueAt(metadata, path);
    const state = register.k === 'delete' ? 'deleted' : register.k;
    if (state !== 'deleted' && value === undefined) continue;
    keys.push({
      path,
      state,
      hasValue: value !== undefined,
      value,
      lastWrite: stampOrigin(register.s),
    });
  }
  keys.sort((a, b) => comparePaths(a.path, b.path));
  return {
    hasValue: Object.keys(metadata).length > 0,
    value: metadata,
    lastWrite: root === undefined ? { kind: 'never' } : stampOrigin(root.s),
    lastCleared: root?.r === undefined ? undefined : stampOrigin(root.r),
    keys,
  };
}

function valueAt(document: JsonObject, path: readonly string[]): JsonValue | undefined {
  let current: JsonValue | undefined = document;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = Object.hasOwn(current, key) ? current[key] : undefined;
  }
  return current;
}

function comparePaths(a: readonly string[], b: readonly string[]): number {
  for (let index = 0; index < Math.min(a.length, b.length); index++) {
    const left = a[index] as string;
    const right = b[index] as string;
    if (left !== right) return left < right ? -1 : 1;
  }
  return a.length - b.length;
}
