import {
  CUSTOMER_FIELDS,
  type CustomerFieldName,
  type CustomerFieldValues,
  type JsonObject,
} from './customer-fields.ts';
import type { MetadataRegisters } from './metadata-registers.ts';
import type { Stamp } from './stamp.ts';

/** Per-field stamps of the write that set each field's current value (SPEC §4.3). */
export type FieldStamps = Partial<Record<CustomerFieldName, Stamp>>;

/** A field name as it appears in `changedFields`: a customer field or `metadata`. */
export type ChangedField = CustomerFieldName | 'metadata';

/** A customer's state as the merge sees it: values, the stamps that decided them, and version. */
export interface CustomerRecord {
  values: CustomerFieldValues;
  stamps: FieldStamps;
  metadataRegisters: MetadataRegisters;
  /** derived from metadataRegisters; stored so that readers need not derive it */
  metadata: JsonObject;
  /** +1 per change (SPEC §5) */
  version: number;
}

export function emptyFieldValues(): CustomerFieldValues {
  const values = {} as Record<CustomerFieldName, null>;
  for (const field of CUSTOMER_FIELDS) values[field] = null;
  return values;
}

/** The record of a customer that no event has touched yet. */
export function emptyCustomerRecord(): CustomerRecord {
  return {
    values: emptyFieldValues(),
    stamps: {},
    metadataRegisters: {},
    metadata: {},
    version: 0,
  };
}
