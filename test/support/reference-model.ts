/**
 * What the customers table must hold after a set of update requests, computed the plainest way
 * there is, independently of src/domain: take each customer's distinct events, sort them by
 * (occurredAt, eventId) and apply them one after another, each present field overwriting the
 * value, `metadata` as an RFC 7396 merge patch (SPEC §3, §4.3). The service instead merges in
 * arrival order with per-field stamps; the two must agree whatever the arrival order.
 */

export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** The stored customer fields of SPEC §3, in the order of the API. */
export const MODEL_FIELDS = [
  'taskType',
  'firstName',
  'lastName',
  'email',
  'birthday',
  'ssnLast4',
  'timezone',
  'phone',
  'address1',
  'address2',
  'city',
  'state',
  'zip',
  'doNotCall',
  'isTest',
] as const;
export type ModelField = (typeof MODEL_FIELDS)[number];
export type ModelFieldValue = string | boolean | null;

/** One update request as the model needs it: values as the service must store them. */
export interface ModelEvent {
  tenantId: string;
  externalId: string;
  eventId: string;
  /** occurredAt as epoch milliseconds (workloads use millisecond precision) */
  occurredAtMs: number;
  fields: Partial<Record<ModelField, ModelFieldValue>>;
  /** absent: metadata untouched; null: cleared; an object: an RFC 7396 merge patch */
  metadata?: JsonObject | null;
}

export interface ModelCustomer {
  tenantId: string;
  externalId: string;
  fields: Record<ModelField, ModelFieldValue>;
  metadata: JsonObject;
}

export function customerKey(customer: { tenantId: string; externalId: string }): string {
  return `${customer.tenantId}:${customer.externalId}`;
}

/** RFC 7396 MergePatch(target, patch), without touching either argument. */
export function mergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete result[name];
    else result[name] = mergePatch(result[name], value);
  }
  return result;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** (occurredAt, eventId) order; UUIDs compare case-insensitively. */
export function compareEvents(a: ModelEvent, b: ModelEvent): number {
  if (a.occurredAtMs !== b.occurredAtMs) return a.occurredAtMs - b.occurredAtMs;
  const left = a.eventId.toLowerCase();
  const right = b.eventId.toLowerCase();
  return left < right ? -1 : left > right ? 1 : 0;
}

/** The expected row of every customer that at least one event names. */
export function expectedCustomers(events: Iterable<ModelEvent>): Map<string, ModelCustomer> {
  const distinct = new Map<string, ModelEvent>();
  for (const event of events) distinct.set(event.eventId.toLowerCase(), event);
  const byCustomer = new Map<string, ModelEvent[]>();
  for (const event of distinct.values()) {
    const key = customerKey(event);
    const list = byCustomer.get(key) ?? [];
    list.push(event);
    byCustomer.set(key, list);
  }

  const customers = new Map<string, ModelCustomer>();
  for (const [key, list] of byCustomer) {
    const first = list[0] as ModelEvent;
    const customer: ModelCustomer = {
      tenantId: first.tenantId,
      externalId: first.externalId,
      fields: Object.fromEntries(MODEL_FIELDS.map((field) => [field, null])) as Record<
        ModelField,
        ModelFieldValue
      >,
      metadata: {},
    };
    for (const event of list.toSorted(compareEvents)) {
      for (const field of MODEL_FIELDS) {
        const value = event.fields[field];
        if (value !== undefined) customer.fields[field] = value;
      }
      // SPEC §3: metadata null clears it; the column holds an object, so cleared is {}.
      if (event.metadata === null) customer.metadata = {};
      else if (event.metadata !== undefined)
        customer.metadata = mergePatch(customer.metadata, event.metadata) as JsonObject;
    }
    customers.set(key, customer);
  }
  return customers;
}
