/**
 * The lending-system HTTP contract (SPEC §6), as zod: what the client accepts from a tenant's
 * lending system and what the simulator serves. `schemas/lending-system.openapi.json` states
 * the same for the people who build a lending system's side; test/unit/lending-system-contract
 * keeps the two in step.
 *
 * Customer fields are checked one by one with the very schemas that check events
 * (CUSTOMER_FIELD_SCHEMAS), so enriched data is normalised like event data (E.164 phones,
 * lower-cased email domains, upper-case states, …). A field that breaks its rule is dropped and
 * reported, not stored: the rest of the customer is still good data. A loan that breaks its
 * rule fails the whole answer, because storing the others would later mark it missing.
 */
import { z } from 'zod';
import { PATTERNS } from '../domain/customer-field-rules.ts';
import {
  ENRICHABLE_FIELDS,
  type EnrichableField,
  type EnrichmentValues,
} from '../domain/fill-missing-fields.ts';
import { CUSTOMER_FIELD_SCHEMAS } from './customer-update-requested.ts';

/** An id that cannot be one segment of a path: empty, `.` or `..` (which URLs resolve away). */
export class UnusablePathSegmentError extends Error {
  constructor(what: string) {
    super(`the ${what} cannot be a lending-system path segment: it is empty, . or ..`);
    this.name = 'UnusablePathSegmentError';
  }
}

/**
 * One path segment: percent-encoded, so `/`, `?` and `#` stay inside it. `.` and `..` are
 * refused, as URL resolution would remove them and ask for another resource (`loans(t, '..')`
 * would GET `tenants/t/loans`) with the tenant's token.
 */
export function pathSegment(value: string, what: string): string {
  if (value === '' || value === '.' || value === '..') throw new UnusablePathSegmentError(what);
  return encodeURIComponent(value);
}

/** The paths of the contract, relative to the lending system's base URL. */
export const LENDING_PATHS = {
  customer: (tenantId: string, externalId: string) =>
    `tenants/${pathSegment(tenantId, 'tenantId')}/customers/${pathSegment(externalId, 'externalId')}`,
  customerByLoanReference: (tenantId: string, loanReferenceId: string) =>
    `tenants/${pathSegment(tenantId, 'tenantId')}/loans/by-reference/${pathSegment(loanReferenceId, 'loanReferenceId')}/customer`,
  loans: (tenantId: string, externalId: string) =>
    `tenants/${pathSegment(tenantId, 'tenantId')}/customers/${pathSegment(externalId, 'externalId')}/loans`,
} as const;

/** A customer as the lending system sends it: the tenant's externalId and any known fields. */
export type WireLendingCustomer = { externalId: string } & {
  [field in EnrichableField]?: unknown;
};

/** A customer from the lending system, its fields validated and normalised. */
export interface LendingCustomer {
  externalId: string;
  values: EnrichmentValues;
  /** fields the lending system sent that break the contract's rules; dropped (names only) */
  rejectedFields: EnrichableField[];
}

const customerEnvelope = z.looseObject({
  externalId: z.string().regex(PATTERNS.externalId),
});

export function parseLendingCustomer(body: unknown): LendingCustomer | undefined {
  const envelope = customerEnvelope.safeParse(body);
  if (!envelope.success) return undefined;
  const raw = envelope.data as Record<string, unknown>;
  const values: Record<string, unknown> = {};
  const rejectedFields: EnrichableField[] = [];
  for (const field of ENRICHABLE_FIELDS) {
    const value = raw[field];
    if (value === undefined || value === null) continue;
    const parsed = CUSTOMER_FIELD_SCHEMAS[field].safeParse(value);
    if (parsed.success) values[field] = parsed.data;
    else rejectedFields.push(field);
  }
  return {
    externalId: envelope.data.externalId,
    values: values as EnrichmentValues,
    rejectedFields,
  };
}

/** A calendar date, YYYY-MM-DD, that exists. */
const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .refine((text) => {
    const date = new Date(`${text}T00:00:00Z`);
    return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
  });

/** Money as a decimal string, never a float: 1234.56 */
const decimalAmount = z.string().regex(/^-?\d{1,15}(\.\d{1,4})?$/);

const optionalNullable = <T extends z.ZodType>(schema: T) =>
  schema
    .nullable()
    .optional()
    .transform((value) => value ?? null);

export const LOAN_STATUS_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;

const wireLoan = z.object({
  id: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  reference: optionalNullable(z.string().min(1).max(128)),
  /** open, delinquent, closed, paid_off, charged_off, … as the lending system names them */
  status: z.string().regex(LOAN_STATUS_PATTERN),
  principal: optionalNullable(decimalAmount),
  balance: optionalNullable(decimalAmount),
  currency: optionalNullable(z.string().regex(/^[A-Z]{3}$/)),
  openedOn: optionalNullable(calendarDate),
  closedOn: optionalNullable(calendarDate),
  daysPastDue: optionalNullable(z.number().int().min(0).max(1_000_000)),
});

/** A loan as stored: every optional member present, null when the lending system has none. */
export type LendingLoan = z.output<typeof wireLoan>;

/** A loan as the lending system sends it (optional members may be left out). */
export type WireLendingLoan = z.input<typeof wireLoan>;

const loansAnswer = z.looseObject({
  loans: z
    .array(wireLoan)
    .max(10_000)
    .refine((loans) => new Set(loans.map((loan) => loan.id)).size === loans.length),
});

export function parseLendingLoans(body: unknown): LendingLoan[] | undefined {
  const parsed = loansAnswer.safeParse(body);
  return parsed.success ? parsed.data.loans : undefined;
}
