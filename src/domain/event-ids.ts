import { createHash } from 'node:crypto';

/**
 * The namespace of every UUIDv5 customer-sync derives. Generated once at random for this
 * service; changing it changes every derived eventId, so a re-sent `customer.updated` would no
 * longer be recognisable as the same event (SPEC §4.6). Never change it.
 */
export const CUSTOMER_SYNC_UUID_NAMESPACE = '4cb50500-88e9-43b5-b553-e6d2be61df42';

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuidBytes(uuid: string): Buffer {
  if (!UUID_TEXT.test(uuid)) throw new TypeError('the namespace must be a UUID');
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}

function formatUuid(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** A name-based UUID, version 5 (SHA-1), as RFC 9562 §5.5 defines it. */
export function uuidV5(namespace: string, name: string): string {
  const hash = createHash('sha1').update(uuidBytes(namespace)).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50; // version 5
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // variant 10xx (RFC 9562)
  return formatUuid(bytes);
}

/**
 * The eventId of a `customer.updated` (SPEC §5): the same cause gives the same id, so a relay
 * that publishes twice publishes one event twice, and consumers can drop the repeat.
 * `discriminator` tells apart several events of one cause: a republish run emits one per
 * customer, so it passes `<tenantId>:<externalId>` (or the customer version).
 * The causation id is lower-cased so that its spelling does not change the result.
 */
export function customerUpdatedEventId(
  causationEventId: string,
  reason: string,
  discriminator?: string,
): string {
  const name = [causationEventId.toLowerCase(), reason];
  if (discriminator !== undefined) name.push(discriminator);
  return uuidV5(CUSTOMER_SYNC_UUID_NAMESPACE, name.join('|'));
}
