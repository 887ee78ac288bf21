import type { ChangedField } from '../domain/customer-record.ts';
import type { StoredCustomer } from '../domain/customer-snapshot.ts';
import { customerUpdatedEventId } from '../domain/event-ids.ts';
import type { CustomerUpdated } from './customer-updated.ts';

/** Why a customer.updated was sent (SPEC §5). */
export type UpdateReason = CustomerUpdated['reason'];

/**
 * The `customer.updated` event for one change (SPEC §5). Its eventId derives from the tenant and
 * the cause, so announcing the same change again produces the same id and consumers can
 * recognise it, and no two tenants' announcements share an id (SPEC §4.7).
 */
export function customerUpdatedEvent(input: {
  customer: StoredCustomer;
  causationId: string;
  reason: UpdateReason;
  changedFields: ChangedField[];
  occurredAt: string;
  /** distinguishes several announcements of one cause, e.g. a republish run */
  discriminator?: string;
}): CustomerUpdated {
  const { customer } = input;
  return {
    eventId: customerUpdatedEventId({
      tenantId: customer.tenantId,
      causationId: input.causationId,
      reason: input.reason,
      ...(input.discriminator !== undefined ? { discriminator: input.discriminator } : {}),
    }),
    type: 'customer.updated',
    version: 1,
    occurredAt: input.occurredAt,
    tenantId: customer.tenantId,
    externalId: customer.externalId,
    causationId: input.causationId,
    reason: input.reason,
    changedFields: input.changedFields,
    customer: customerDocument(customer),
  };
}

/** The customer as customer.updated carries it: the API's response shape (SPEC §5). */
export function customerDocument(customer: StoredCustomer): CustomerUpdated['customer'] {
  return {
    externalId: customer.externalId,
    // every customer field, in CUSTOMER_FIELDS order (the API's response shape, SPEC §5)
    ...customer.record.values,
    metadata: customer.record.metadata,
    version: customer.record.version,
    createdAt: customer.createdAt,
    updatedAt: customer.updatedAt,
  };
}

/** The size of the customer's document as JSON, the way its announcement carries it. */
export function customerDocumentBytes(customer: StoredCustomer): number {
  return Buffer.byteLength(JSON.stringify(customerDocument(customer)));
}
