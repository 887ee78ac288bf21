/** A customer's identity: always the pair, never the external id alone (SPEC §4.7). */
export interface CustomerKey {
  tenantId: string;
  externalId: string;
}

/** The Kafka message key of both topics (SPEC §2). */
export function kafkaKeyOf(key: CustomerKey): string {
  return `${key.tenantId}:${key.externalId}`;
}

/** An unambiguous map key for a customer (tenant ids cannot contain NUL). */
export function customerKeyId(key: CustomerKey): string {
  return `${key.tenantId}\u0000${key.externalId}`;
}
