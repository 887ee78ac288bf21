import type {
  JsonObject,
  JsonValue,
  ModelEvent,
  ModelField,
  ModelFieldValue,
} from './reference-model.ts';
import type { WireUpdateRequest } from './update-request-builder.ts';

/**
 * A reproducible stream of valid `customer.update.requested` events for resilience tests and
 * benchmarks: several tenants and customers, partial updates of 1–6 fields (nulls included),
 * metadata merge patches, occurredAt out of publish order (with ties, broken by eventId), some
 * timestamps with a non-UTC offset, some upper-case eventIds, and re-sent duplicates. Every
 * event carries, beside its wire form, the values the service must store (`expected`), so the
 * reference model never needs the service's normalisation code.
 */

export interface WorkloadOptions {
  seed: number;
  /** tenantId -> the task types configured for it */
  tenants: Record<string, string[]>;
  customersPerTenant: number;
  /** distinct events */
  events: number;
  /** re-sent copies, as a fraction of `events` (default 0.1) */
  duplicateRatio?: number;
  /** prefix of the generated externalIds, to keep workloads apart in one database */
  externalIdPrefix?: string;
}

export interface WorkloadEvent {
  wire: WireUpdateRequest;
  expected: ModelEvent;
}

export interface Workload {
  /** each event once, in generation order */
  events: WorkloadEvent[];
  /** the publish order: every event, out of occurredAt order, with duplicates interleaved */
  stream: WireUpdateRequest[];
  customers: Array<{ tenantId: string; externalId: string }>;
}

/** A small, fast, seedable PRNG (mulberry32): the same seed gives the same workload. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type Random = () => number;

function integer(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function chance(random: Random, probability: number): boolean {
  return random() < probability;
}

/** [wire value, stored value] pairs: the service normalises the first into the second. */
const VALUES: Record<Exclude<ModelField, 'taskType'>, ReadonlyArray<[unknown, ModelFieldValue]>> = {
  firstName: [
    [' Ann ', 'Ann'],
    ['Bob', 'Bob'],
    ['Zoë', 'Zoë'],
    ['Mei Ling', 'Mei Ling'],
  ],
  lastName: [
    ['Lee', 'Lee'],
    [' Okafor', 'Okafor'],
    ["O'Brien", "O'Brien"],
    ['García', 'García'],
  ],
  email: [
    ['Ann@Example.COM', 'Ann@example.com'],
    ['bob@mail.test', 'bob@mail.test'],
    ['Z.Q@Sub.Example.org', 'Z.Q@sub.example.org'],
  ],
  birthday: [
    ['1980-02-29', '1980-02-29'],
    ['1999-12-31', '1999-12-31'],
    ['1900-01-01', '1900-01-01'],
    ['2001-07-04', '2001-07-04'],
  ],
  ssnLast4: [
    ['1234', '1234'],
    ['0000', '0000'],
    ['9876', '9876'],
  ],
  timezone: [
    ['America/New_York', 'America/New_York'],
    ['America/Chicago', 'America/Chicago'],
    ['Europe/London', 'Europe/London'],
  ],
  phone: [
    ['(415) 555-0132', '+14155550132'],
    ['212-555-0199', '+12125550199'],
    ['+1 312 555 0147', '+13125550147'],
    ['+44 20 7946 0958', '+442079460958'],
    ['202.555.0171', '+12025550171'],
  ],
  address1: [
    [' 1 Main St ', '1 Main St'],
    ['742 Evergreen Terrace', '742 Evergreen Terrace'],
    ['PO Box 7', 'PO Box 7'],
  ],
  address2: [
    ['Apt 4', 'Apt 4'],
    ['Suite 100', 'Suite 100'],
  ],
  city: [
    ['Austin', 'Austin'],
    [' Boston ', 'Boston'],
    ['San Francisco', 'San Francisco'],
  ],
  state: [
    ['ca', 'CA'],
    ['NY', 'NY'],
    ['tx', 'TX'],
    ['PR', 'PR'],
  ],
  zip: [
    ['12345', '12345'],
    ['12345-6789', '12345-6789'],
    ['94105', '94105'],
  ],
  doNotCall: [
    [true, true],
    [false, false],
  ],
  isTest: [
    [true, true],
    [false, false],
  ],
};

const OPTIONAL_FIELDS = [...(Object.keys(VALUES) as Array<keyof typeof VALUES>), 'metadata'];
const METADATA_KEYS = ['plan', 'score', 'tags', 'prefs', 'note'];

function metadataValue(random: Random, depth: number): JsonValue {
  const roll = random();
  if (roll < 0.2) return null; // deletes the key
  if (roll < 0.4) return integer(random, 0, 9);
  if (roll < 0.55) return pick(random, ['gold', 'silver', 'x']);
  if (roll < 0.7) return [integer(random, 0, 3), integer(random, 0, 3)];
  if (depth > 1) return true;
  return metadataPatch(random, depth + 1);
}

function metadataPatch(random: Random, depth = 1): JsonObject {
  const patch: JsonObject = {};
  const keys = depth === 1 ? METADATA_KEYS : ['a', 'b', 'c'];
  for (let count = integer(random, 1, 3); count > 0; count--) {
    patch[pick(random, keys)] = metadataValue(random, depth);
  }
  return patch;
}

function uuid(random: Random): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = pick(random, ['8', '9', 'a', 'b']);
  const text = hex.join('');
  return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
}

function pad(value: number, width = 2): string {
  return String(Math.abs(value)).padStart(width, '0');
}

/** RFC 3339 with the given UTC offset in minutes (0 -> `Z`), millisecond precision. */
export function rfc3339(epochMs: number, offsetMinutes: number): string {
  const local = new Date(epochMs + offsetMinutes * 60_000).toISOString().slice(0, 23);
  if (offsetMinutes === 0) return `${local}Z`;
  const sign = offsetMinutes < 0 ? '-' : '+';
  return `${local}${sign}${pad(Math.trunc(offsetMinutes / 60))}:${pad(offsetMinutes % 60)}`;
}

const BASE_TIME_MS = Date.parse('2026-01-01T00:00:00.000Z');

/**
 * The seed of a workload's random stream. The prefix takes part: two workloads with one seed
 * and different prefixes (a property test that draws the same seed twice) would otherwise
 * share every eventId, and the service rightly treats the second one's events as duplicates.
 * Without a prefix it is the seed itself.
 */
function streamSeed(seed: number, prefix: string | undefined): number {
  let mixed = seed >>> 0;
  for (const char of prefix ?? '') mixed = Math.imul(mixed ^ char.charCodeAt(0), 0x01000193) >>> 0;
  return mixed;
}

export function generateWorkload(options: WorkloadOptions): Workload {
  const random = seededRandom(streamSeed(options.seed, options.externalIdPrefix));
  const prefix = options.externalIdPrefix ?? 'cust';
  const customers = Object.keys(options.tenants).flatMap((tenantId) =>
    Array.from({ length: options.customersPerTenant }, (_, index) => ({
      tenantId,
      externalId: `${prefix}-${index + 1}`,
    })),
  );
  // A coarse clock, so that one customer's events often share an occurredAt: ties are broken
  // by eventId (SPEC §4.3), and that path has to be exercised too.
  const eventsPerCustomer = Math.max(1, options.events / customers.length);
  const clockTicks = Math.max(4, Math.round(eventsPerCustomer * 2));

  const events: WorkloadEvent[] = [];
  for (let index = 0; index < options.events; index++) {
    const customer = pick(random, customers);
    const taskTypes = options.tenants[customer.tenantId] ?? [];
    const taskType = pick(random, taskTypes);
    const data: Record<string, unknown> = { taskType };
    const fields: ModelEvent['fields'] = { taskType };
    let metadata: JsonObject | null | undefined;

    const chosen = new Set<string>();
    for (let count = integer(random, 1, 6); chosen.size < count; )
      chosen.add(pick(random, OPTIONAL_FIELDS));
    for (const field of chosen) {
      if (field === 'metadata') {
        metadata = chance(random, 0.08) ? null : metadataPatch(random);
        data.metadata = metadata;
        continue;
      }
      const name = field as keyof typeof VALUES;
      if (chance(random, 0.2)) {
        data[name] = null;
        fields[name] = null;
      } else {
        const [wire, stored] = pick(random, VALUES[name]);
        data[name] = wire;
        fields[name] = stored;
      }
    }

    const occurredAtMs = BASE_TIME_MS + integer(random, 0, clockTicks) * 1_000;
    const offsetMinutes = chance(random, 0.2) ? pick(random, [120, -300, 330]) : 0;
    const eventId = chance(random, 0.1) ? uuid(random).toUpperCase() : uuid(random);
    const expected: ModelEvent = {
      tenantId: customer.tenantId,
      externalId: customer.externalId,
      eventId,
      occurredAtMs,
      fields,
    };
    if (metadata !== undefined) expected.metadata = metadata;
    events.push({
      wire: {
        eventId,
        type: 'customer.update.requested',
        version: 1,
        occurredAt: rfc3339(occurredAtMs, offsetMinutes),
        tenantId: customer.tenantId,
        externalId: customer.externalId,
        source: 'workload',
        data,
      },
      expected,
    });
  }

  return {
    events,
    stream: publishOrder(
      events.map((event) => event.wire),
      random,
      options.duplicateRatio ?? 0.1,
    ),
    customers,
  };
}

/**
 * The events in a random order with re-sent copies: each copy is published after its original
 * (a re-send), at a random later position.
 */
export function publishOrder(
  events: readonly WireUpdateRequest[],
  random: Random,
  duplicateRatio = 0.1,
): WireUpdateRequest[] {
  const order = [...events];
  for (let index = order.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [order[index], order[other]] = [
      order[other] as WireUpdateRequest,
      order[index] as WireUpdateRequest,
    ];
  }
  const copies = Math.round(events.length * duplicateRatio);
  for (let count = 0; count < copies; count++) {
    const original = Math.floor(random() * order.length);
    const position = integer(random, original + 1, order.length);
    order.splice(position, 0, structuredClone(order[original] as WireUpdateRequest));
  }
  return order;
}
