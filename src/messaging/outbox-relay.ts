import type { Message, Producer } from 'kafkajs';
import { type BackoffSettings, backoffDelayMs, sleep } from '../application/retry-policy.ts';
import { kafkaKeyOf } from '../domain/customer-key.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { OutboxEntry, OutboxStore, RelayLease } from '../persistence/outbox-store.ts';

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
  producer: Producer;
  topic: string;
  encoder?: CustomerUpdatedEncoder;
  batchSize: number;
  pollIntervalMs: number;
  retry: BackoffSettings;
  metrics: Metrics;
  logger: Logger;
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
  let wakeUp: AbortController = new AbortController();
  let loop: Promise<void> | undefined;
  let drainDeadline = Number.POSITIVE_INFINITY;

  function wake() {
    wakeUp.abort();
  }

  async function idle(ms: number) {
    await sleep(ms, wakeUp.signal);
    if (wakeUp.signal.aborted) wakeUp = new AbortController();
  }

  async function toMessage(entry: OutboxEntry): Promise<Message> {
    return {
      key: kafkaKeyOf(entry),
      value: await encoder.encode(entry.payloadJson),
      headers: {
        'event.id': entry.eventId,
        'event.type': 'customer.updated',
        'content-type': encoder.contentType,
      },
    };
  }

  /** Publishes one batch; returns how many entries it published. */
  async function publishOnce(current: RelayLease): Promise<number> {
    const entries = await current.readBatch(options.batchSize);
    if (entries.length === 0) return 0;
    const messages = await Promise.all(entries.map(toMessage));
    await options.producer.send({ topic: options.topic, messages });
    await current.deletePublished(entries.map((entry) => entry.id));
    options.metrics.outboxPublished.inc(entries.length);
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
        options.metrics.retries.inc({ stage: 'outbox-relay' });
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
