import { createHash } from 'node:crypto';
import type { WireLendingCustomer, WireLendingLoan } from '../../src/contracts/lending-system.ts';

/**
 * The simulator's made-up lending book: every (seed, tenant, externalId) has one customer and
 * 1–4 loans, derived from a hash so the same inputs always give the same data, across runs and
 * machines, without storing anything. The data is fake (555-01xx phone numbers, example.com
 * addresses) and deliberately untidy (mixed phone formats, upper-case email domains, lower-case
 * states) so that enrichment's normalisation has work to do.
 */

/** Customers whose externalId starts with this are not in the lending book (a 404). */
export const UNKNOWN_CUSTOMER_PREFIX = 'unknown-';

/** Loan references are `<externalId>~L<n>`, so a reference finds its customer without a table. */
const REFERENCE_SEPARATOR = '~L';
const MAX_REFERENCE_CHARS = 128;

/** A small deterministic generator (mulberry32) seeded from a hash of the inputs. */
function generator(...parts: string[]): () => number {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest();
  let state = digest.readUInt32BE(0);
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

const FIRST_NAMES = [
  'Ann',
  'Ben',
  'Carla',
  'Dev',
  'Elena',
  'Farid',
  'Grace',
  'Hiro',
  'Ines',
  'Jon',
];
const LAST_NAMES = ['Lee', 'Okafor', 'Novak', 'Garcia', 'Smith', 'Haddad', 'Kim', 'Rossi', 'Berg'];
const STREETS = ['Main St', 'Oak Ave', 'Pine Rd', 'Maple Dr', 'Cedar Ln', 'Elm St', 'Lake Blvd'];
const PLACES = [
  {
    city: 'San Francisco',
    state: 'ca',
    zip: '94103',
    areaCode: '415',
    timezone: 'America/Los_Angeles',
  },
  { city: 'Austin', state: 'TX', zip: '78701', areaCode: '512', timezone: 'America/Chicago' },
  { city: 'Denver', state: 'co', zip: '80202', areaCode: '303', timezone: 'America/Denver' },
  { city: 'Boston', state: 'MA', zip: '02108-1234', areaCode: '617', timezone: 'America/New_York' },
  { city: 'Seattle', state: 'WA', zip: '98101', areaCode: '206', timezone: 'America/Los_Angeles' },
  { city: 'Miami', state: 'fl', zip: '33130', areaCode: '305', timezone: 'America/New_York' },
] as const;
const PHONE_FORMATS = [
  (area: string, line: string) => `(${area}) 555-${line}`,
  (area: string, line: string) => `${area}.555.${line}`,
  (area: string, line: string) => `+1 ${area} 555 ${line}`,
] as const;
const LOAN_STATUSES = ['open', 'open', 'delinquent', 'closed', 'paid_off', 'charged_off'] as const;

export function isKnownCustomer(externalId: string): boolean {
  return !externalId.startsWith(UNKNOWN_CUSTOMER_PREFIX);
}

export function seededCustomer(
  seed: string,
  tenantId: string,
  externalId: string,
): WireLendingCustomer | undefined {
  if (!isKnownCustomer(externalId)) return undefined;
  const random = generator(seed, tenantId, externalId, 'customer');
  const firstName = pick(random, FIRST_NAMES);
  const lastName = pick(random, LAST_NAMES);
  const place = pick(random, PLACES);
  const line = `01${String(Math.floor(random() * 100)).padStart(2, '0')}`;
  const year = 1950 + Math.floor(random() * 50);
  const month = 1 + Math.floor(random() * 12);
  const day = 1 + Math.floor(random() * 28);
  const domain = random() < 0.5 ? 'example.com' : 'Example.COM';
  return {
    externalId,
    firstName,
    lastName,
    email: `${firstName}.${lastName}${Math.floor(random() * 1000)}@${domain}`,
    birthday: `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
    ssnLast4: String(Math.floor(random() * 10_000)).padStart(4, '0'),
    timezone: place.timezone,
    phone: pick(random, PHONE_FORMATS)(place.areaCode, line),
    address1: `${1 + Math.floor(random() * 9_000)} ${pick(random, STREETS)}`,
    address2: random() < 0.3 ? `Apt ${1 + Math.floor(random() * 40)}` : null,
    city: place.city,
    state: place.state,
    zip: place.zip,
    doNotCall: random() < 0.1,
  };
}

export function seededLoans(seed: string, tenantId: string, externalId: string): WireLendingLoan[] {
  if (!isKnownCustomer(externalId)) return [];
  const random = generator(seed, tenantId, externalId, 'loans');
  const count = 1 + Math.floor(random() * 4);
  // Ids are unique per tenant in practice: a 1-in-10^8 clash moves a loan between customers.
  const base = 1 + Math.floor(random() * 100_000_000);
  const loans: WireLendingLoan[] = [];
  for (let index = 1; index <= count; index++) {
    const status = pick(random, LOAN_STATUSES);
    const principalCents = 50_000 + Math.floor(random() * 5_000_000);
    const closed = status === 'closed' || status === 'paid_off' || status === 'charged_off';
    const openedYear = 2015 + Math.floor(random() * 10);
    const reference = `${externalId}${REFERENCE_SEPARATOR}${index}`;
    loans.push({
      id: base * 10 + index,
      reference: reference.length <= MAX_REFERENCE_CHARS ? reference : null,
      status,
      principal: (principalCents / 100).toFixed(2),
      balance: closed ? '0.00' : ((principalCents * random()) / 100).toFixed(2),
      currency: 'USD',
      openedOn: `${openedYear}-0${1 + Math.floor(random() * 9)}-1${Math.floor(random() * 10)}`,
      closedOn: closed ? `${openedYear + 1}-06-30` : null,
      daysPastDue: status === 'delinquent' ? 1 + Math.floor(random() * 120) : 0,
    });
  }
  return loans;
}

/** The externalId a seeded loan reference belongs to, if it is one. */
export function externalIdOfLoanReference(reference: string): string | undefined {
  const at = reference.lastIndexOf(REFERENCE_SEPARATOR);
  if (at <= 0 || !/^\d+$/.test(reference.slice(at + REFERENCE_SEPARATOR.length))) return undefined;
  return reference.slice(0, at);
}

/** Where the simulator's fault decisions come from: seeded, so a run can be repeated. */
export function faultGenerator(seed: string): () => number {
  return generator(seed, 'faults');
}
