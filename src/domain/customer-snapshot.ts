import type { CustomerKey } from './customer-key.ts';
import type { CustomerRecord } from './customer-record.ts';

export interface StoredCustomer extends CustomerKey {
  record: CustomerRecord;
  createdAt: string;
  updatedAt: string;
}

/**
 * SPEC §4.4: a change may not grow a customer's document past the limit, so that every
 * announcement fits what Kafka accepts. A change that shrinks or keeps the size of a document
 * already past it (a lowered limit, metadata keys deleted) is applied: that is the way back.
 */
export function growsPastDocumentLimit(
  beforeBytes: number,
  afterBytes: number,
  limit: number,
): boolean {
  return afterBytes > limit && afterBytes > beforeBytes;
}
