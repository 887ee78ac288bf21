/**
 * The outbox as the relay sees it (SPEC §4.6): announcements committed with the change that
 * caused them, read in commit order per shard, deleted once the broker has them. Implemented
 * over Postgres by persistence/outbox-store.ts, used by messaging/outbox/outbox-relay.ts.
 */
import type { NewParkedRecord } from './parked-records.ts';

/** One committed announcement waiting for the relay. */
export interface OutboxEntry {
  id: string;
  /** the W3C trace context the announcement continues (README "Tracing") */
  traceContext?: { traceparent: string; tracestate?: string };
  eventId: string;
  tenantId: string;
  externalId: string;
  /**
   * The customer.updated event as the JSON text the outbox holds: the JSON relay publishes it
   * as it is, without parsing and writing it again (a tenth of the relay's CPU, bench/).
   */
  payloadJson: string;
}

/**
 * This replica's membership among the relays, and the outbox shards it holds: each shard is
 * relayed by one replica at a time, which is what per-customer order needs (SPEC §4.6).
 */
export interface RelayLease {
  /**
   * Rebalances the shards when a round is due, then reads the oldest rows of the held ones: at
   * most `limit` of them and, beyond the first, at most `maxBytes` of payload together, so
   * that a batch of large snapshots is not read into memory all at once.
   */
  readBatch(limit: number, maxBytes: number): Promise<OutboxEntry[]>;
  deletePublished(ids: string[]): Promise<void>;
  /** takes refused entries out of the outbox and parks them, in one transaction (SPEC §4.4) */
  park(entries: Array<{ id: string; record: NewParkedRecord }>): Promise<void>;
  /** the shards held since the last readBatch */
  shards(): readonly number[];
  release(): Promise<void>;
}

export interface OutboxStore {
  /**
   * Joins the relays (throws `outbox.shard_count_mismatch`, retryable, while a replica with
   * another shard count or the single-lease relay of an older version relays); undefined is
   * kept for stores that never relay.
   */
  tryAcquireRelayLease(): Promise<RelayLease | undefined>;
  backlog(): Promise<{ count: number; oldestAgeSeconds: number }>;
  /** calls `onWrite` whenever any replica commits outbox rows; resolves to an unsubscribe */
  listen(onWrite: () => void): Promise<() => Promise<void>>;
  /** closes the connection kept for the next lease attempt, if any */
  close(): Promise<void>;
}
