import { CUSTOMER_FIELDS, type CustomerFieldName, type CustomerPatch } from './customer-fields.ts';
import type { ChangedField, CustomerRecord } from './customer-record.ts';
import { ENRICHMENT_STAMP } from './stamp.ts';

/**
 * The fields a lending system may fill. `taskType` names the tenant's work queue, which only the
 * producer knows, and `isTest` is the producer's statement about its own event stream; metadata
 * is the producer's free-form document. None of them is the lending system's to fill.
 */
export const ENRICHABLE_FIELDS = CUSTOMER_FIELDS.filter(
  (field) => field !== 'taskType' && field !== 'isTest',
) as ReadonlyArray<Exclude<CustomerFieldName, 'taskType' | 'isTest'>>;

export type EnrichableField = (typeof ENRICHABLE_FIELDS)[number];

/** What a lending system knows about a customer, already validated and normalised. */
export type EnrichmentValues = Partial<Pick<CustomerPatch, EnrichableField>>;

export interface FillOutcome {
  record: CustomerRecord;
  /** fields the enrichment filled, in CUSTOMER_FIELDS order */
  changedFields: ChangedField[];
}

/**
 * SPEC §6 inside the merge rules of SPEC §4.3: enrichment fills a field only where no write has
 * ever landed (no stamp) and the value is empty, and it writes with ENRICHMENT_STAMP, which is
 * older than every event. So an event's value wins over the lending system's whichever comes
 * first: an event that already wrote the field (even `null`, a deliberate clear) left a stamp
 * and the field is not filled; an event that arrives later, however old its occurredAt, carries
 * a newer stamp and overwrites the filled value. A field once filled is not refreshed by a later
 * enrichment: it is no longer empty.
 */
export function fillMissingFields(current: CustomerRecord, found: EnrichmentValues): FillOutcome {
  const values = { ...current.values };
  const stamps = { ...current.stamps };
  const changedFields: ChangedField[] = [];
  for (const field of ENRICHABLE_FIELDS) {
    const value = found[field];
    if (value === undefined || value === null) continue;
    if (stamps[field] !== undefined || current.values[field] !== null) continue;
    (values as Record<EnrichableField, unknown>)[field] = value;
    stamps[field] = ENRICHMENT_STAMP;
    changedFields.push(field);
  }
  const changed = changedFields.length > 0;
  return {
    record: {
      ...current,
      values,
      stamps,
      version: changed ? current.version + 1 : current.version,
    },
    changedFields,
  };
}
