import { canonicalJson, jsonEqual } from './canonical-json.ts';
import {
  CUSTOMER_FIELDS,
  type CustomerFieldName,
  type CustomerPatch,
  type JsonObject,
} from './customer-fields.ts';
import type { ChangedField, CustomerRecord } from './customer-record.ts';
import {
  applyMetadataPatch,
  type MetadataTombstones,
  materialiseMetadata,
} from './metadata-registers.ts';
import type { Stamp } from './stamp.ts';

/** One event's writes, all at the event's stamp. */
export interface FieldWrite {
  stamp: Stamp;
  patch: CustomerPatch;
  /** an RFC 7396 merge patch; `null` clears all metadata; absent leaves it alone */
  metadataPatch?: JsonObject | null;
}

export interface MergeOutcome {
  record: CustomerRecord;
  /** fields whose value changed, in CUSTOMER_FIELDS order, then `metadata` */
  changedFields: ChangedField[];
  /** fields the write carried but that already hold a newer write (SPEC §4.3: skipped, counted) */
  staleFields: ChangedField[];
  /** metadata tombstones to store apart from the record (metadata-registers.ts) */
  metadataTombstones: MetadataTombstones;
}

type FieldValue = CustomerPatch[CustomerFieldName];

/**
 * SPEC §4.3: every field is a last-writer-wins register ordered by (occurredAt, eventId), so
 * any set of writes applied in any order, with any duplicates, ends in the same values. A
 * write whose stamp equals the stored one is the same event again and changes nothing; should
 * a producer re-use an eventId with other content, the greater canonical value wins so that
 * arrival order still does not matter.
 */
export function mergeFieldsLastWriterWins(
  current: CustomerRecord,
  write: FieldWrite,
  /** the stored tombstones of the metadata paths the write patches (metadataPatchPaths) */
  metadataTombstones: MetadataTombstones = {},
): MergeOutcome {
  const values = { ...current.values };
  const stamps = { ...current.stamps };
  const changedFields: ChangedField[] = [];
  const staleFields: ChangedField[] = [];

  for (const field of CUSTOMER_FIELDS) {
    if (!Object.hasOwn(write.patch, field)) continue;
    const incoming = write.patch[field] as FieldValue;
    const storedStamp = stamps[field];
    if (storedStamp !== undefined && write.stamp < storedStamp) {
      staleFields.push(field);
      continue;
    }
    if (storedStamp === write.stamp && !incomingWinsTie(incoming, values[field])) continue;
    stamps[field] = write.stamp;
    if (!jsonEqual(incoming ?? null, values[field] ?? null)) {
      (values as Record<CustomerFieldName, FieldValue>)[field] = incoming ?? null;
      changedFields.push(field);
    }
  }

  let { metadataRegisters, metadata } = current;
  let tombstones: MetadataTombstones = {};
  if (write.metadataPatch !== undefined) {
    const patched = applyMetadataPatch(
      metadataRegisters,
      write.metadataPatch,
      write.stamp,
      metadataTombstones,
    );
    metadataRegisters = patched.registers;
    tombstones = patched.tombstones;
    const nextMetadata = materialiseMetadata(metadataRegisters);
    if (!jsonEqual(nextMetadata, metadata)) changedFields.push('metadata');
    else if (everyMetadataWriteIsOlder(current, write)) staleFields.push('metadata');
    metadata = nextMetadata;
  }

  const changed = changedFields.length > 0;
  return {
    record: {
      values,
      stamps,
      metadataRegisters,
      metadata,
      version: changed ? current.version + 1 : current.version,
    },
    changedFields,
    staleFields,
    metadataTombstones: tombstones,
  };
}

function incomingWinsTie(incoming: FieldValue, stored: FieldValue): boolean {
  return canonicalJson(incoming ?? null) > canonicalJson(stored ?? null);
}

/** A metadata patch counts as stale when the stored metadata already holds a newer write. */
function everyMetadataWriteIsOlder(current: CustomerRecord, write: FieldWrite): boolean {
  const root = current.metadataRegisters['[]'];
  return root !== undefined && root.s > write.stamp;
}
