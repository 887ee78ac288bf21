/**
 * Branded identifiers. They are plain strings at run time; the brand only stops a tenant id
 * from being passed where an external id is expected (SPEC §4.7: tenants are isolated, so
 * mixing the two up is the bug we most want the compiler to catch).
 *
 * The constructors do not validate: call them only on values that passed the contract
 * (`parseCustomerUpdateRequested`) or that were read back from our own database.
 */

/** The company an event belongs to (SPEC §3 `tenantId`); every row and lookup is scoped by it. */
export type TenantId = string & { readonly __brand: 'TenantId' };

/** The customer's reference in the tenant's own system (SPEC §3 `externalId`). */
export type ExternalId = string & { readonly __brand: 'ExternalId' };

/** An event's UUID, lower-case; the idempotency key of a request (SPEC §4.2). */
export type EventId = string & { readonly __brand: 'EventId' };

export function tenantId(value: string): TenantId {
  return value as TenantId;
}

export function externalId(value: string): ExternalId {
  return value as ExternalId;
}

/** Lower-cases, so that the same UUID written in either case is the same idempotency key. */
export function eventId(value: string): EventId {
  return value.toLowerCase() as EventId;
}
