import { createHash } from 'node:crypto';
import { CUSTOMER_FIELDS, type CustomerFieldName } from '../src/domain/customer-fields.ts';
import { seededRandom } from '../test/support/workload.ts';

/**
 * A realistic, reproducible stream of customer.update.requested messages for the benchmark:
 * many tenants and customers (a few customers far busier than the rest), partial updates of
 * 1–6 fields, and shares of redelivered duplicates, late (out-of-order) events and invalid
 * messages. The same seed gives the same messages, byte for byte.
 */
export interface WorkloadOptions {
  seed: number;
  tenants: number;
  customers: number;
  /** share of messages that re-send an earlier message unchanged (redelivery) */
  duplicateShare: number;
  /** share of events whose occurredAt lies before events already sent for the customer */
  outOfOrderShare: number;
  /** share of messages that must be dead-lettered (bad JSON, unknown field or tenant, …) */
  invalidShare: number;
}

export const DEFAULT_WORKLOAD: WorkloadOptions = {
  seed: 42,
  tenants: 20,
  customers: 20_000,
  duplicateShare: 0.03,
  outOfOrderShare: 0.05,
  invalidShare: 0.01,
};

export const TASK_TYPES = ['collections', 'servicing'];

export interface WorkloadMessage {
  key: string;
  value: Buffer;
  /** undefined when the value is not even JSON */
  eventId: string | undefined;
  kind: 'update' | 'duplicate' | 'late' | 'invalid';
}

export function tenantIds(options: Pick<WorkloadOptions, 'tenants'>): string[] {
  return Array.from({ length: options.tenants }, (_, index) => `tenant-${index + 1}`);
}

/** An endless generator; take as many messages as a phase needs. */
export function* generateWorkload(
  options: WorkloadOptions,
  startAt: Date = new Date(Date.UTC(2026, 0, 5, 9)),
): Generator<WorkloadMessage> {
  const random = seededRandom(options.seed);
  const tenants = tenantIds(options);
  const sent: WorkloadMessage[] = [];
  let clock = startAt.getTime();
  let sequence = 0;

  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

  for (;;) {
    sequence += 1;
    clock += 1 + Math.floor(random() * 20);
    const roll = random();

    if (roll < options.duplicateShare && sent.length > 0) {
      // A redelivery of one of the recent messages: same key, same bytes.
      const earlier = sent[sent.length - 1 - Math.floor(random() * Math.min(sent.length, 500))];
      if (earlier !== undefined) {
        yield { ...earlier, kind: 'duplicate' };
        continue;
      }
    }

    // A few hot customers: a quadratic skew sends about a third of the traffic to a tenth of them.
    const customer = Math.floor(random() ** 2 * options.customers);
    const tenantId = tenants[customer % tenants.length] as string;
    const externalId = `cust-${customer.toString(36).padStart(5, '0')}`;
    const key = `${tenantId}:${externalId}`;
    const eventId = deterministicUuid(options.seed, sequence);
    const late = roll < options.duplicateShare + options.outOfOrderShare;
    const occurredAt = new Date(late ? clock - 1_000 - random() * 120_000 : clock).toISOString();

    const data: Record<string, unknown> = { taskType: pick(TASK_TYPES) };
    const fieldCount = 1 + Math.floor(random() * 6);
    for (const field of pickDistinct(UPDATABLE_FIELDS, fieldCount, random)) {
      data[field] = FIELD_VALUES[field](random, customer);
    }
    const envelope: Record<string, unknown> = {
      eventId,
      type: 'customer.update.requested',
      version: 1,
      occurredAt,
      tenantId,
      externalId,
      source: 'loan-servicing',
      data,
    };

    const invalid =
      roll >= options.duplicateShare + options.outOfOrderShare &&
      roll < options.duplicateShare + options.outOfOrderShare + options.invalidShare;
    if (invalid) {
      yield { ...invalidMessage(envelope, key, random), kind: 'invalid' };
      continue;
    }

    const message: WorkloadMessage = {
      key,
      value: Buffer.from(JSON.stringify(envelope)),
      eventId,
      kind: late ? 'late' : 'update',
    };
    sent.push(message);
    if (sent.length > 1_000) sent.splice(0, 500);
    yield message;
  }
}

export function takeWorkload(options: WorkloadOptions, count: number): WorkloadMessage[] {
  const messages: WorkloadMessage[] = [];
  for (const message of generateWorkload(options)) {
    if (messages.length >= count) break;
    messages.push(message);
  }
  return messages;
}

/** The kinds of poison upstream systems really send, each caught at a different stage. */
function invalidMessage(
  envelope: Record<string, unknown>,
  key: string,
  random: () => number,
): { key: string; value: Buffer; eventId: string | undefined } {
  const eventId = envelope.eventId as string;
  const data = envelope.data as Record<string, unknown>;
  switch (Math.floor(random() * 5)) {
    case 0:
      return { key, value: Buffer.from('{"eventId": "truncated'), eventId: undefined };
    case 1:
      data.emial = 'typo@example.com'; // unknown field: rejected at decode
      break;
    case 2:
      data.email = 'not-an-email'; // invalid value: rejected at decode
      break;
    case 3:
      data.taskType = 'origination'; // not a task type of the tenant: rejected at apply
      break;
    default: {
      envelope.tenantId = 'tenant-unknown'; // unknown tenant: rejected at apply
      const externalId = envelope.externalId as string;
      return {
        key: `tenant-unknown:${externalId}`,
        value: Buffer.from(JSON.stringify(envelope)),
        eventId,
      };
    }
  }
  return { key, value: Buffer.from(JSON.stringify(envelope)), eventId };
}

/** Every field an update may carry: the stored customer fields but the task type, and metadata. */
const UPDATABLE_FIELDS = [
  ...CUSTOMER_FIELDS.filter(
    (field): field is Exclude<CustomerFieldName, 'taskType'> => field !== 'taskType',
  ),
  'metadata',
] as const;
type UpdatableField = (typeof UPDATABLE_FIELDS)[number];

const FIRST_NAMES = [
  'Ann',
  'Bo',
  'Carla',
  'Dev',
  'Emeka',
  'Fatima',
  'Grace',
  'Hiro',
  'Ines',
  'Jon',
];
const LAST_NAMES = ['Lee', 'Garcia', 'Okafor', 'Novak', 'Smith', 'Tanaka', 'Silva', 'Khan'];
const CITIES = ['Austin', 'Boston', 'Chicago', 'Denver', 'Miami', 'Portland', 'Seattle'];
const STATES = ['TX', 'ma', 'IL', 'co', 'FL', 'OR', 'WA', 'NY', 'CA', 'PR'];
const ZONES = ['America/New_York', 'America/Chicago', 'America/Denver', 'America/Los_Angeles'];
const AREA_CODES = ['212', '415', '312', '617', '713', '305', '206', '404', '503', '702'];
const STREETS = ['Main St', 'Oak Ave', 'Pine Rd', 'Elm St', 'Cedar Ln', 'Maple Dr'];

const FIELD_VALUES: Record<UpdatableField, (random: () => number, customer: number) => unknown> = {
  firstName: (random) => ` ${pickFrom(FIRST_NAMES, random)} `,
  lastName: (random) => (random() < 0.05 ? null : pickFrom(LAST_NAMES, random)),
  email: (random, customer) =>
    `user${customer}.${Math.floor(random() * 9)}@Example${Math.floor(random() * 5)}.COM`,
  birthday: (random) =>
    `19${50 + Math.floor(random() * 50)}-0${1 + Math.floor(random() * 9)}-1${Math.floor(random() * 9)}`,
  ssnLast4: (random) => String(Math.floor(random() * 10_000)).padStart(4, '0'),
  timezone: (random) => pickFrom(ZONES, random),
  phone: (random) => `(${pickFrom(AREA_CODES, random)}) 555-0${100 + Math.floor(random() * 100)}`,
  address1: (random) => `${1 + Math.floor(random() * 9_999)} ${pickFrom(STREETS, random)}`,
  address2: (random) => (random() < 0.3 ? null : `Apt ${1 + Math.floor(random() * 400)}`),
  city: (random) => pickFrom(CITIES, random),
  state: (random) => pickFrom(STATES, random),
  zip: (random) =>
    random() < 0.8
      ? String(10_000 + Math.floor(random() * 89_999))
      : `${10_000 + Math.floor(random() * 89_999)}-${1_000 + Math.floor(random() * 8_999)}`,
  doNotCall: (random) => random() < 0.1,
  isTest: (random) => random() < 0.02,
  metadata: (random) => ({
    segment: pickFrom(['prime', 'near-prime', 'subprime'], random),
    score: Math.floor(random() * 900),
    ...(random() < 0.2 ? { campaign: null } : { campaign: `c-${Math.floor(random() * 40)}` }),
  }),
};

function pickFrom<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)] as T;
}

function pickDistinct<T>(items: readonly T[], count: number, random: () => number): T[] {
  const pool = [...items];
  const picked: T[] = [];
  while (picked.length < count && pool.length > 0) {
    picked.push(pool.splice(Math.floor(random() * pool.length), 1)[0] as T);
  }
  return picked;
}

/** A v4-shaped UUID derived from the seed and sequence, so reruns produce the same ids. */
function deterministicUuid(seed: number, sequence: number): string {
  const hex = createHash('sha1').update(`${seed}:${sequence}`).digest('hex');
  const variant = ((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
