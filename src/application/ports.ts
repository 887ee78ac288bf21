/**
 * The service's vocabulary and its ports, on one page: what the words in the code mean, and
 * every interface the use cases (this folder) need from the outside world, each re-exported
 * from the file of the use case that owns it. persistence/, messaging/ and enrichment/
 * implement them; nothing here knows Postgres, Kafka or HTTP.
 *
 * Words
 * - customer key: (tenantId, externalId), the identity of a customer (domain/customer-key.ts).
 * - stamp: `occurredAt|eventId` as one sortable string; the larger stamp wins (domain/stamp.ts).
 * - last writer wins: each field keeps the value of its largest stamp, so any order of the same
 *   events ends in the same customer (domain/merge-last-writer-wins.ts, SPEC §4.2).
 * - metadata register: one stamped value per metadata path, with reset stamps, so RFC 7396
 *   merge patches commute (domain/metadata-registers.ts).
 * - processed event: an eventId recorded with its outcome, the basis of "applied once".
 * - outbox: announcements committed in the transaction that caused them, published by the relay.
 * - relay shard: a slice of the outbox by customer, relayed by one replica at a time.
 * - dead letter: an input record the service refuses, with the reason in its headers.
 * - parked record: an outgoing record the broker refused for its content, kept for retry.
 * - enrichment job: a durable request to fill a customer from the tenant's lending system.
 * - redrive: sending dead letters back to the input topic once each, after a fix.
 * - republish: announcing stored customers again (a dialer rebuilding its state).
 */

/** The transaction a chunk of update events is applied in: locks, reads, upserts, outbox rows. */
export type { UpdateBatchStore, UpdateBatchTransaction } from './apply-update-batch.ts';
/** What `explain` reads: the database's history of a customer, and the topics' records. */
export type {
  AnnouncementArchive,
  CustomerAuditStore,
  DeadLetterArchive,
} from './explain-customer.ts';
/** A tenant's lending system, asked for a customer and its loans. */
export type { LendingSystem, LendingTargets } from './lending-system.ts';
/** The outbox as the relay reads and empties it, and the relay's hold on its shards. */
export type { OutboxEntry, OutboxStore, RelayLease } from './outbox.ts';
/** Outgoing records kept after the broker refused them, and the way to send them again. */
export type { ParkedRecordStore, RecordDelivery } from './parked-records.ts';
/** Which dead letters were sent back already, so a redrive sends each one once. */
export type { RedriveLedger } from './redrive-dead-letters.ts';
/** The customers a republish run announces, and the run's progress. */
export type { RepublishStore } from './republish-snapshots.ts';
/** The durable enrichment queue: claims under a lease, reschedules, and the apply transaction. */
export type {
  EnrichmentQueue,
  EnrichmentStore,
  EnrichmentTransaction,
} from './run-enrichment-job.ts';
/** What customer.updated carries already, so a replay into an empty database announces it once. */
export type { AnnouncedEventIndex } from './skip-already-announced.ts';
/** A database, broker or registry that start-up waits for. */
export type { Dependency } from './wait-for-dependency.ts';
