import type { CustomerUpdated } from '../contracts/customer-updated.ts';
import { customerUpdatedEvent } from '../contracts/customer-updated-event.ts';
import type { CustomerKey } from '../domain/customer-key.ts';
import type { StoredCustomer } from '../domain/customer-snapshot.ts';
import { sleep } from './retry-policy.ts';

/** Which customers a republish run announces; an absent part means "any". */
export interface RepublishSelection {
  tenantId?: string;
  externalIds?: string[];
  /** customers whose row changed at or after this time (RFC 3339) */
  updatedSince?: string;
}

/** A run as stored: its selection and how far it got, in (tenantId, externalId) order. */
export interface RepublishRun {
  runId: string;
  selection: RepublishSelection;
  after: CustomerKey | undefined;
  published: number;
  finishedAt: string | undefined;
}

/** The database work of a republish run (persistence/republish-store.ts). */
export interface RepublishStore {
  /** creates the run, or returns it as it stands when it exists already */
  startOrResume(runId: string, selection: RepublishSelection): Promise<RepublishRun>;
  /** how many selected customers come after the run's position */
  countRemaining(run: RepublishRun): Promise<number>;
  /**
   * In one transaction: takes the next `limit` selected customers after the run's position,
   * locks them as every writer does, writes `announce(customer)` for each to the outbox, and
   * moves the run's position past them. Returns the run as it now stands and how many it did.
   */
  publishNextPage(
    run: RepublishRun,
    limit: number,
    announce: (customer: StoredCustomer) => CustomerUpdated,
  ): Promise<{ run: RepublishRun; published: number }>;
  finish(run: RepublishRun): Promise<RepublishRun>;
  /** customer.updated events waiting in the outbox for the relay */
  outboxBacklog(): Promise<number>;
}

export interface RepublishOptions {
  store: RepublishStore;
  run: RepublishRun;
  batchSize: number;
  /** at most this many customers per second; unpaced when absent */
  ratePerSecond?: number;
  /** waits while more than this many events wait in the outbox (the relay sets the pace) */
  maxOutboxBacklog: number;
  signal: AbortSignal;
  now?: () => Date;
  onProgress?(progress: { published: number; waiting?: string }): void;
}

export interface RepublishReport {
  run: RepublishRun;
  /** customers announced by this invocation (a resumed run counts only what it added) */
  publishedNow: number;
  completed: boolean;
}

/**
 * The `customer.updated` of a republish (SPEC §5 reason "republish"): the current snapshot,
 * caused by the run. Its eventId derives from the run id and the customer (its tenant and
 * external id), so the same run never announces a customer twice (a resumed run produces the
 * same ids), while a new run announces everyone again under new ids.
 */
export function republishEvent(
  runId: string,
  customer: StoredCustomer,
  occurredAt: string,
): CustomerUpdated {
  return customerUpdatedEvent({
    customer,
    causationId: runId,
    reason: 'republish',
    changedFields: [],
    occurredAt,
    discriminator: customer.externalId,
  });
}

/**
 * SPEC §7 `republish`: re-emits current snapshots through the outbox, so the relay publishes
 * them in order with every other change of the same customer. Paced by batch size, an
 * optional rate and the outbox backlog; resumable from the position each batch commits.
 */
export async function republishSnapshots(options: RepublishOptions): Promise<RepublishReport> {
  const now = options.now ?? (() => new Date());
  const startedAt = now().getTime();
  let run = options.run;
  let publishedNow = 0;

  while (!options.signal.aborted) {
    let backlog = await options.store.outboxBacklog();
    while (backlog > options.maxOutboxBacklog && !options.signal.aborted) {
      options.onProgress?.({
        published: publishedNow,
        waiting: `waiting for the outbox relay (backlog ${backlog})`,
      });
      await sleep(1_000, options.signal);
      backlog = await options.store.outboxBacklog();
    }
    if (options.signal.aborted) break;

    const page = await options.store.publishNextPage(run, options.batchSize, (customer) =>
      republishEvent(run.runId, customer, now().toISOString()),
    );
    run = page.run;
    if (page.published === 0) {
      run = await options.store.finish(run);
      return { run, publishedNow, completed: true };
    }
    publishedNow += page.published;
    options.onProgress?.({ published: publishedNow });

    if (options.ratePerSecond !== undefined) {
      const earliestNext = startedAt + (publishedNow / options.ratePerSecond) * 1_000;
      const wait = earliestNext - now().getTime();
      if (wait > 0) await sleep(wait, options.signal);
    }
  }
  return { run, publishedNow, completed: false };
}
