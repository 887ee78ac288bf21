import type { CustomerUpdated } from '../contracts/customer-updated.ts';
import { kafkaKeyOf } from '../domain/customer-key.ts';
import { legacyUpdateEventId } from '../domain/event-ids.ts';
import { CustomerSyncError } from '../errors.ts';
import type { UpdateBatchStore, UpdateBatchTransaction } from './apply-update-batch.ts';

/**
 * How the index names an announcement on customer.updated: its message key and eventId. The key
 * is part of it because the ids announced before the upgrade to tenant-scoped ids
 * (legacyUpdateEventId) are not unique across tenants, only per customer.
 */
export function announcementKey(messageKey: string, eventId: string): string {
  return `${messageKey}\u0000${eventId.toLowerCase()}`;
}

/**
 * Whether customer.updated carries this change already: under its id, or, for an update
 * announced before the upgrade, under the id it had then (SPEC §4.6: a replay into an empty
 * database must not announce again what subscribers have).
 */
function alreadyAnnounced(announced: ReadonlySet<string>, event: CustomerUpdated): boolean {
  const messageKey = kafkaKeyOf(event);
  if (announced.has(announcementKey(messageKey, event.eventId))) return true;
  return (
    event.reason === 'update' &&
    announced.has(announcementKey(messageKey, legacyUpdateEventId(event.causationId)))
  );
}

/**
 * The announcements already on customer.updated, as announcementKey()s. Loading it means reading that topic, so it is
 * loaded only once a replay is about to announce something: a replay over a live database
 * announces nothing and never pays for it.
 */
export interface AnnouncedEventIndex {
  /** undefined until loaded */
  loaded(): ReadonlySet<string> | undefined;
  load(): Promise<void>;
}

/** Thrown inside the batch transaction (which then rolls back) until the index is loaded. */
export class AnnouncedIndexNeeded extends CustomerSyncError {
  constructor() {
    super(
      'replay.announced_index_needed',
      'the replay must learn which changes customer.updated already carries',
      { canRetry: true },
    );
  }
}

export interface AnnouncementFilter {
  store: UpdateBatchStore;
  /** customer.updated events written to the outbox (committed) */
  written(): number;
  /** customer.updated events not written to the outbox because they were already announced */
  suppressed(): number;
  /** call with a failure of the apply path; true once it has loaded what was missing */
  prepareForRetry(error: unknown): Promise<boolean>;
}

/**
 * SPEC §4.6 for replays: every applied change is announced exactly once. A replay into an
 * empty database re-applies changes that were announced long ago; their customer.updated
 * eventIds derive from the cause, so they are the same ids (or, announced before the upgrade to
 * tenant-scoped ids, recognisable ones), and the ones already on the topic are not written to
 * the outbox again. Changes that were never announced (an event that was
 * dead-lettered then, and applies now) still are.
 */
export function skipAlreadyAnnounced(
  store: UpdateBatchStore,
  index: AnnouncedEventIndex,
): AnnouncementFilter {
  let suppressed = 0;
  let written = 0;
  return {
    store: {
      async inTransaction(work, signal) {
        let pendingSuppressed = 0;
        let pendingWritten = 0;
        const result = await store.inTransaction(
          (transaction) =>
            work({
              ...transaction,
              async appendToOutbox(events, traceContexts) {
                if (events.length === 0) return transaction.appendToOutbox(events);
                const announced = index.loaded();
                if (announced === undefined) throw new AnnouncedIndexNeeded();
                const keep = events.map((event) => !alreadyAnnounced(announced, event));
                const fresh = events.filter((_, position) => keep[position]);
                pendingSuppressed += events.length - fresh.length;
                pendingWritten += fresh.length;
                return transaction.appendToOutbox(
                  fresh,
                  traceContexts?.filter((_, position) => keep[position]),
                );
              },
            } satisfies UpdateBatchTransaction),
          signal,
        );
        // Counted once the transaction has committed.
        suppressed += pendingSuppressed;
        written += pendingWritten;
        return result;
      },
    },
    written: () => written,
    suppressed: () => suppressed,
    async prepareForRetry(error) {
      if (!(error instanceof AnnouncedIndexNeeded)) return false;
      await index.load();
      return true;
    },
  };
}
