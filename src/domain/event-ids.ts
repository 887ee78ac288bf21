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
  return uuidV5(CUSTOMER_SYNC_UUID_NAMESPACE, name.join('|'));
}

/**
 * The id a `customer.updated` with reason "update" had before the tenant was part of derived ids
 * (release 0.1.0: a UUIDv5 of the request's eventId and the reason alone). Only `replay` uses it,
 * to recognise announcements made before the upgrade; it is not unique across tenants, so it
 * is matched together with the message key (skip-already-announced.ts).
 */
export function legacyUpdateEventId(causationId: string): string {
  return uuidV5(CUSTOMER_SYNC_UUID_NAMESPACE, `${causationId.toLowerCase()}|update`);
}
