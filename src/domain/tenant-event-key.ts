/**
 * The idempotency key of a request: its eventId within its tenant (SPEC §4.2, §4.7). Two
 * tenants may send the same eventId; each is a different event. Tenant ids cannot contain NUL,
 * so the text is unambiguous.
 */
export interface TenantEvent {
  tenantId: string;
  eventId: string;
}

export function tenantEventKey(event: TenantEvent): string {
  return `${event.tenantId}\u0000${event.eventId}`;
}
