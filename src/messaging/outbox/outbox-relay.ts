import type { Message } from 'kafkajs';
import type { OutboxEntry, OutboxStore, RelayLease } from '../../application/outbox.ts';
import { type BackoffSettings, backoffDelayMs } from '../../application/retry-policy.ts';
import { createWakeUpCall } from '../../application/wake-up-call.ts';
import { CUSTOMER_UPDATED_TYPE } from '../../contracts/customer-updated.ts';
import { kafkaKeyOf } from '../../domain/customer-key.ts';
import type { Logger } from '../../observability/logger.ts';
import { countRetry, type Metrics } from '../../observability/metrics.ts';
import type { PublishTrace, Tracing } from '../../observability/tracing.ts';
import type { RecordSender, RefusedMessage } from '../kafka/record-sender.ts';
import { parkedRecordsOf, reportParked } from '../parking.ts';

/**
 * Turns an outbox row's JSON text into the Kafka message value (JSON, or Avro with a
 * registry).
 */
export interface CustomerUpdatedEncoder {
  encode(payloadJson: string): Promise<Buffer>;
  contentType: string;
}

/** The outbox holds the event as compact JSON already: published as written. */
export const jsonEncoder: CustomerUpdatedEncoder = {
  encode: async (payloadJson) => Buffer.from(payloadJson),
  contentType: 'application/json',
};

export interface OutboxRelayOptions {
  store: OutboxStore;
  sender: RecordSender;
  topic: string;
  encoder?: CustomerUpdatedEncoder;
  batchSize: number;
  /** KAFKA_MAX_REQUEST_BYTES: a batch reads at most about this much payload */
  maxBatchBytes: number;
  pollIntervalMs: number;
  retry: BackoffSettings;
  metrics: Metrics;
  logger: Logger;
  /** set only when tracing is on: each record continues its row's trace context */
  tracing?: Tracing;
}

export interface OutboxRelay {
  start(): void;
  /** something was written to the outbox: publish soon */
  wake(): void;
  /** publishes what is in the outbox until it is empty or the deadline passes, then stops */
  stop(deadline: number): Promise<void>;
}

/**
 * SPEC §4.6: publishes the outbox to customer.updated in id order (per-customer order), at
 * least once, and deletes what Kafka acknowledged. Each replica relays the shards its lease
 * holds (outbox-store.ts), one replica per shard.
 * The loop must never throw: every failure is logged, counted and retried with backoff.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const encoder = options.encoder ?? jsonEncoder;
  const log = options.logger.child({ component: 'outbox-relay' });
  let lease: RelayLease | undefined;
  let running = false;
  const { wake, idle } = createWakeUpCall();
  let loop: Promise<void> | undefined;
  let drainDeadline = Number.POSITIVE_INFINITY;

  async function toMessage(
    entry: OutboxEntry,
    index: number,
    trace?: PublishTrace,
  ): Promise<Message> {
    return {
      key: kafkaKeyOf(entry),
      value: await encoder.encode(entry.payloadJson),
      headers: {
        'event.id': entry.eventId,
        'event.type': CUSTOMER_UPDATED_TYPE,
        'content-type': encoder.contentType,
        ...trace?.headersOf(index),
      },
    };
  }

  /**
   * Publishes one batch; returns how many entries it took out of the outbox. An entry the
   * broker refuses for good is parked (SPEC §4.4) and the relay goes on: the customer's later
   * announcements are published after it as usual, and the parked one waits for an operator
   * (README "Parked records").
   */
  async function publishOnce(current: RelayLease): Promise<number> {
    const entries = await current.readBatch(options.batchSize, options.maxBatchBytes);
    if (entries.length === 0) return 0;
    const trace = options.tracing?.startPublish(
      options.topic,
      entries.map((entry) => entry.traceContext),
    );
    let refused: RefusedMessage[];
    let messages: Message[];
    try {
      messages = await Promise.all(entries.map((entry, index) => toMessage(entry, index, trace)));
      refused = await options.sender.send(options.topic, messages);
      trace?.end();
    } catch (error) {
      trace?.end(error);
      throw error;
    }
    const refusedIndexes = new Set(refused.map((item) => item.index));
    const published = entries.filter((_, index) => !refusedIndexes.has(index));
    // Published first: should parking fail, only the refused entries are sent again.
    if (published.length > 0) await current.deletePublished(published.map((entry) => entry.id));
    options.metrics.outboxPublished.inc(published.length);
    if (refused.length > 0) {
      const about = (index: number) => {
        const { eventId, tenantId, externalId } = entries[index] as OutboxEntry;
        return { eventId, tenantId, externalId };
      };
      const records = parkedRecordsOf('announcement', options.topic, messages, refused, about);
      await current.park(
        refused.map(({ index }, position) => ({
          id: (entries[index] as OutboxEntry).id,
          record: records[position] as (typeof records)[number],
        })),
      );
      reportParked(records, options.metrics, log);
    }
    return entries.length;
  }

  let reportedShards = '';
  /** The shards held, as a metric and, when they change, a log line (README "Sharded relay"). */
  function reportShards(shards: readonly number[]) {
    options.metrics.relayShardsHeld.set(shards.length);
    options.metrics.relayLeader.set(shards.length > 0 ? 1 : 0);
    const listed = shards.join(',');
    if (listed !== reportedShards) log.info({ shards }, 'outbox relay shards changed');
    reportedShards = listed;
  }

  async function dropLease() {
    const held = lease;
    lease = undefined;
    reportShards([]);
    await held?.release().catch(() => {});
  }

  async function run() {
    let failures = 0;
    while (running || Date.now() < drainDeadline) {
      try {
        lease ??= await options.store.tryAcquireRelayLease();
        if (lease === undefined) {
          if (!running) return; // not the leader: nothing of ours to drain
          await idle(Math.max(options.pollIntervalMs, 1_000));
          continue;
        }
        const published = await publishOnce(lease);
        reportShards(lease.shards());
        failures = 0;
        if (published === 0) {
          if (!running) return; // drained
          await idle(options.pollIntervalMs);
        }
      } catch (error) {
        const delayMs = backoffDelayMs(failures++, options.retry);
        countRetry(options.metrics, 'outbox-relay', error);
        log.warn({ failure: error, delayMs }, 'outbox relay failed, retrying');
        // The lease's connection may be gone; take it again rather than trust it.
        await dropLease();
        if (!running && Date.now() + delayMs >= drainDeadline) return;
        await idle(delayMs);
      }
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    wake,
    async stop(deadline) {
      drainDeadline = deadline;
      running = false;
      wake();
      await loop;
      await dropLease();
    },
  };
}
