/**
 * The `customer.updated` contract (SPEC §5): what downstream dialer services receive after a
 * change. `schemas/customer.updated.schema.json` and `schemas/customer.updated.avsc` state the
 * same shape; the agreement test keeps them in step.
 *
 * The schema states what we guarantee downstream: values in their stored, normalised form
 * (E.164 phone, upper-case state, …). Parsing our own output with it in tests is how the
 * guarantee is checked.
 */
import { z } from 'zod';
import { PATTERNS, US_STATE_CODES } from '../domain/customer-field-rules.ts';
import {
  CUSTOMER_FIELDS,
  type CustomerFieldName,
  type CustomerFieldValues,
  type JsonObject,
  type JsonValue,
} from '../domain/customer-fields.ts';

export const CUSTOMER_UPDATED_TYPE = 'customer.updated';
export const CUSTOMER_UPDATED_VERSION = 1;

/** Why the event was emitted: an applied request, an enrichment, or an operator's republish. */
export const CUSTOMER_UPDATED_REASONS = ['update', 'enrichment', 'republish'] as const;
export type CustomerUpdatedReason = (typeof CUSTOMER_UPDATED_REASONS)[number];

/** What `changedFields` may name: the customer fields and `metadata` (SPEC §5). */
export const CHANGED_FIELD_NAMES = [...CUSTOMER_FIELDS, 'metadata'] as const;
export type ChangedFieldName = CustomerFieldName | 'metadata';

/** The customer after the change, in the Update Customer API's response shape (SPEC §5). */
export interface CustomerSnapshot extends CustomerFieldValues {
  externalId: string;
  metadata: JsonObject;
  /** Per customer, +1 per change. */
  version: number;
  /** RFC 3339, UTC. */
  createdAt: string;
  /** RFC 3339, UTC. */
  updatedAt: string;
}

export interface CustomerUpdated {
  /** Deterministic from the cause (see customerUpdatedEventId), so a re-send has the same id. */
  eventId: string;
  type: typeof CUSTOMER_UPDATED_TYPE;
  version: typeof CUSTOMER_UPDATED_VERSION;
  /** When the change was applied; RFC 3339, UTC. */
  occurredAt: string;
  tenantId: string;
  externalId: string;
  /** The eventId of the request (or republish run) that caused this event. */
  causationId: string;
  reason: CustomerUpdatedReason;
  /** Names of the fields whose value changed; empty for a republish. */
  changedFields: ChangedFieldName[];
  customer: CustomerSnapshot;
}

/** RFC 3339 with an offset, any precision up to nanoseconds; we emit UTC (`Z`). */
const timestamp = z.string().regex(PATTERNS.occurredAt);

/** E.164: `+`, a country code that does not start with 0, at most 15 digits in all. */
export const E164_PATTERN = /^\+[1-9]\d{1,14}$/;

const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);

export const customerSnapshotSchema = z.strictObject({
  externalId: z.string().regex(PATTERNS.externalId),
  taskType: z.string().min(1).nullable(),
  firstName: z.string().min(1).nullable(),
  lastName: z.string().min(1).nullable(),
  email: z.string().regex(PATTERNS.email).nullable(),
  birthday: z.string().regex(PATTERNS.birthday).nullable(),
  ssnLast4: z.string().regex(PATTERNS.ssnLast4).nullable(),
  timezone: z.string().regex(PATTERNS.timezone).nullable(),
  phone: z.string().regex(E164_PATTERN).nullable(),
  address1: z.string().min(1).nullable(),
  address2: z.string().min(1).nullable(),
  city: z.string().min(1).nullable(),
  state: z.enum(US_STATE_CODES).nullable(),
  zip: z.string().regex(PATTERNS.zip).nullable(),
  doNotCall: z.boolean().nullable(),
  isTest: z.boolean().nullable(),
  metadata: z.record(z.string(), jsonValue),
  version: z.number().int().min(1),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const customerUpdatedSchema = z.strictObject({
  eventId: z.string().regex(PATTERNS.uuid),
  type: z.literal(CUSTOMER_UPDATED_TYPE),
  version: z.literal(CUSTOMER_UPDATED_VERSION),
  occurredAt: timestamp,
  tenantId: z.string().regex(PATTERNS.tenantId),
  externalId: z.string().regex(PATTERNS.externalId),
  causationId: z.string().regex(PATTERNS.uuid),
  reason: z.enum(CUSTOMER_UPDATED_REASONS),
  changedFields: z
    .array(z.enum(CHANGED_FIELD_NAMES))
    .refine((fields) => new Set(fields).size === fields.length, {
      error: 'must not name a field twice',
    }),
  customer: customerSnapshotSchema,
});

// The hand-written interfaces are the documentation; these fail to compile if they drift from
// the schema: the same keys, and every parsed event is a CustomerUpdated (the schema may be
// narrower, e.g. `state` is one of US_STATE_CODES where the interface says string).
type Equal<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type AssertTrue<T extends true> = T;
type ParsedCustomerUpdated = z.output<typeof customerUpdatedSchema>;
export type SchemaMatchesCustomerUpdated = AssertTrue<
  | Equal<keyof ParsedCustomerUpdated, keyof CustomerUpdated>
  | Equal<keyof ParsedCustomerUpdated['customer'], keyof CustomerSnapshot>
  | (ParsedCustomerUpdated extends CustomerUpdated ? true : false)
>;

export type CustomerUpdatedParseResult =
  | { ok: true; event: CustomerUpdated }
  | { ok: false; message: string; path?: string };

/** Checks an outgoing (or received) event against the contract; messages name paths only. */
export function parseCustomerUpdated(value: unknown): CustomerUpdatedParseResult {
  const result = customerUpdatedSchema.safeParse(value);
  if (result.success) return { ok: true, event: result.data };
  const issue = result.error.issues[0];
  const path = issue?.path.map(String).join('.');
  return {
    ok: false,
    message: `${path || 'the event'} does not match the customer.updated contract`,
    ...(path ? { path } : {}),
  };
}

/**
 * The Avro form of the event (`schemas/customer.updated.avsc`): the same fields, except that
 * `customer.metadata` is a JSON string, since Avro has no free-form "any JSON value" type.
 */
export type CustomerUpdatedAvroRecord = Omit<CustomerUpdated, 'customer'> & {
  customer: Omit<CustomerSnapshot, 'metadata'> & { metadata: string };
};

export function toAvroRecord(event: CustomerUpdated): CustomerUpdatedAvroRecord {
  return {
    ...event,
    customer: { ...event.customer, metadata: JSON.stringify(event.customer.metadata) },
  };
}

export function fromAvroRecord(record: CustomerUpdatedAvroRecord): CustomerUpdated {
  return {
    ...record,
    customer: { ...record.customer, metadata: JSON.parse(record.customer.metadata) as JsonObject },
  };
}
