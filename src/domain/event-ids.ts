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

/** What a `customer.updated` eventId is derived from (SPEC §5). */
export interface AnnouncementCause {
  /** SPEC §4.7: part of every derived id, so two tenants' events never share one */
  tenantId: string;
  /** the request's eventId, the republish run id: what caused the announcement */
  causationId: string;
  reason: string;
  /** tells apart several announcements of one cause (a republish run: one per customer) */
  discriminator?: string;
}

/**
 * The eventId of a `customer.updated` (SPEC §5): a UUIDv5 of the tenant, the cause, the reason
 * and the discriminator, so the same cause gives the same id (a relay that publishes twice
 * publishes one event twice, and consumers can drop the repeat) and two tenants that send the
 * same request eventId get two ids (SPEC §4.7). Tenant ids cannot contain `|` (SPEC §3), so the
 * name is unambiguous. The causation id is lower-cased so that its spelling does not matter.
 */
export function customerUpdatedEventId(cause: AnnouncementCause): string {
  const name = [cause.tenantId, cause.causationId.toLowerCase(), cause.reason];
  if (cause.discriminator !== undefined) name.push(cause.discriminator);
  return uuidV5(NAMESPACE_BYTES, name.join('|'));
}

/**
 * The id a `customer.updated` with reason "update" had before the tenant was part of derived ids
 * (release 0.1.0: a UUIDv5 of the request's eventId and the reason alone). Only `replay` uses it,
 * to recognise announcements made before the upgrade; it is not unique across tenants, so it
 * is matched together with the message key (skip-already-announced.ts).
 */
export function legacyUpdateEventId(causationId: string): string {
  return uuidV5(NAMESPACE_BYTES, `${causationId.toLowerCase()}|update`);
}
