import { parse, v5 } from 'uuid';

/**
 * The namespace of every UUIDv5 customer-sync derives. Generated once at random for this
 * service; changing it changes every derived eventId, so a re-sent `customer.updated` would no
 * longer be recognisable as the same event (SPEC §4.6). Never change it.
 */
export const CUSTOMER_SYNC_UUID_NAMESPACE = '4cb50500-88e9-43b5-b553-e6d2be61df42';

/** Parsed once: the eventId of every announced change is derived from it. */
const NAMESPACE_BYTES = parse(CUSTOMER_SYNC_UUID_NAMESPACE);

/**
 * A name-based UUID, version 5 (SHA-1, RFC 9562 §5.5), by the `uuid` package. The name is
 * encoded here, as UTF-8 with a lone surrogate as U+FFFD (Node's Buffer), so the ids do not
 * depend on how the library would encode a string (it throws on a lone surrogate). A namespace
 * that is not a UUID is a TypeError.
 */
export function uuidV5(namespace: string | Uint8Array, name: string): string {
  return v5(Buffer.from(name, 'utf8'), namespace);
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
  return uuidV5(NAMESPACE_BYTES, name.join('|'));
}
