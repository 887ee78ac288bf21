import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { ALL_ERROR_CODES } from '../contracts/error-codes.ts';
import { DATABASE_CONFLICTS, databaseConflictOf } from '../errors.ts';
import { SERVICE_VERSION } from '../service-version.ts';

/**
 * Label values that exist from the start, at 0: a counter that first appears at 1 is invisible
 * to `increase()` and `rate()`, so the first dead letter or retry would not alert, and a
 * dashboard shows "no data" instead of 0.
 */
const OUTCOMES = ['applied', 'unchanged', 'duplicate', 'stale', 'dead-lettered'] as const;
const RETRY_STAGES = ['apply', 'outbox-relay', 'enrichment_claim'] as const;

/**
 * The one metrics registry (SPEC §8). Labels carry codes, outcomes, topics and partitions:
 * never a customer, never a value (PII never reaches a metric label). Names follow
 * Prometheus' conventions: a unit suffix (`_seconds`, `_messages`, `_events`, `_jobs`) or
 * `_total` for counters; Node's own metrics keep their standard `process_*` and `nodejs_*`
 * names, so that stock Node.js dashboards match. README "Operating it" lists them all, and
 * deploy/ (alerts, dashboard) reads them: a rename changes all three together.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  new Gauge({
    name: 'customer_sync_build_info',
    help: 'always 1; the running version in its label',
    labelNames: ['version'] as const,
    registers,
  }).set({ version: SERVICE_VERSION }, 1);
  const metrics = {
    registry,
    events: new Counter({
      name: 'customer_sync_events_total',
      help: 'update requests by outcome: applied, unchanged, duplicate, stale, dead-lettered',
      labelNames: ['outcome'] as const,
      registers,
    }),
    staleFields: new Counter({
      name: 'customer_sync_stale_fields_total',
      help: 'field writes skipped because the stored value came from a newer event (SPEC §4.3)',
      labelNames: ['field'] as const,
      registers,
    }),
    deadLetters: new Counter({
      name: 'customer_sync_dead_letters_total',
      help: 'messages sent to the dead-letter topic, by error code',
      labelNames: ['code'] as const,
      registers,
    }),
    batchDuration: new Histogram({
      name: 'customer_sync_batch_duration_seconds',
      help: 'time to decode, apply and commit one batch',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    processingLatency: new Histogram({
      name: 'customer_sync_processing_latency_seconds',
      help: 'from a message being appended to Kafka to its batch committing',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    batchSize: new Histogram({
      name: 'customer_sync_batch_messages',
      help: 'messages per applied batch',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500],
      registers,
    }),
    consumerLag: new Gauge({
      name: 'customer_sync_consumer_lag_messages',
      help: "messages between the group's committed offset and the partition's end offset, sampled from the broker for every partition assigned to this replica",
      labelNames: ['topic', 'partition'] as const,
      registers,
    }),
    consumerLagSeconds: new Gauge({
      name: 'customer_sync_consumer_lag_seconds',
      help: 'age of the oldest message this replica has fetched and not committed yet (0 when it holds none)',
      labelNames: ['topic', 'partition'] as const,
      registers,
    }),
    secondsSinceCommit: new Gauge({
      name: 'customer_sync_consumer_since_commit_seconds',
      help: 'seconds since this replica last committed an offset of the partition (or was assigned it)',
      labelNames: ['topic', 'partition'] as const,
      registers,
    }),
    secondsSincePoll: new Gauge({
      name: 'customer_sync_consumer_since_poll_seconds',
      help: 'seconds since the consumer last completed a fetch from the broker',
      registers,
    }),
    eventLoopDelayMax: new Gauge({
      name: 'customer_sync_event_loop_delay_max_seconds',
      help: 'the longest the event loop was blocked within the liveness window (perf_hooks.monitorEventLoopDelay)',
      registers,
    }),
    live: new Gauge({
      name: 'customer_sync_live',
      help: '1 while /healthz answers ok; 0 while it reports a stuck replica (its body says why)',
      registers,
    }),
    lagSamples: new Counter({
      name: 'customer_sync_consumer_lag_samples_total',
      help: "samples of the group's lag from the broker, by outcome: ok, failed",
      labelNames: ['outcome'] as const,
      registers,
    }),
    retries: new Counter({
      name: 'customer_sync_retries_total',
      help: 'transient failures retried with backoff, by stage',
      labelNames: ['stage'] as const,
      registers,
    }),
    outboxBacklog: new Gauge({
      name: 'customer_sync_outbox_backlog_events',
      help: 'customer.updated events written but not yet acknowledged by Kafka',
      registers,
    }),
    outboxOldestAge: new Gauge({
      name: 'customer_sync_outbox_oldest_age_seconds',
      help: 'age of the oldest unpublished customer.updated event',
      registers,
    }),
    outboxPublished: new Counter({
      name: 'customer_sync_outbox_published_total',
      help: 'customer.updated events published to Kafka',
      registers,
    }),
    enrichmentQueueDepth: new Gauge({
      name: 'customer_sync_enrichment_queue_jobs',
      help: 'enrichment jobs not finished yet, by state: pending (waiting or backing off), running',
      labelNames: ['state'] as const,
      registers,
    }),
    enrichmentOldestJobAge: new Gauge({
      name: 'customer_sync_enrichment_oldest_job_age_seconds',
      help: 'age of the oldest unfinished enrichment job',
      registers,
    }),
    enrichmentJobs: new Counter({
      name: 'customer_sync_enrichment_jobs_total',
      help: 'enrichment job attempts by outcome: succeeded, no_data, retried, failed, released',
      labelNames: ['outcome'] as const,
      registers,
    }),
    enrichmentRejectedFields: new Counter({
      name: 'customer_sync_enrichment_rejected_fields_total',
      help: 'customer fields from a lending system dropped for breaking their rule',
      labelNames: ['field'] as const,
      registers,
    }),
    enrichmentBreakerState: new Gauge({
      name: 'customer_sync_enrichment_breaker_state',
      help: "a tenant's lending-system circuit breaker: 0 closed, 1 half-open, 2 open",
      labelNames: ['tenant'] as const,
      registers,
    }),
    enrichmentBreakerTransitions: new Counter({
      name: 'customer_sync_enrichment_breaker_transitions_total',
      help: "a tenant's lending-system circuit breaker changing state, by the state it entered",
      labelNames: ['tenant', 'to'] as const,
      registers,
    }),
    lendingRequests: new Histogram({
      name: 'customer_sync_lending_request_duration_seconds',
      help: 'lending-system calls by operation and outcome (HTTP status, timeout, connection_failed)',
      labelNames: ['operation', 'outcome'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    schemaRegistryLookups: new Counter({
      name: 'customer_sync_schema_registry_lookups_total',
      help: 'schemas fetched from the Schema Registry by id (each id once, then cached), by outcome: found, unknown, failed',
      labelNames: ['outcome'] as const,
      registers,
    }),
    databaseConflicts: new Counter({
      name: 'customer_sync_database_conflicts_total',
      help: 'database work retried after a deadlock, lock timeout, statement timeout or cancellation, or serialization failure, by kind and stage',
      labelNames: ['kind', 'stage'] as const,
      registers,
    }),
    processedEventsPruned: new Counter({
      name: 'customer_sync_processed_events_pruned_total',
      help: 'processed event ids deleted past PROCESSED_EVENTS_RETENTION_DAYS',
      registers,
    }),
    relayLeader: new Gauge({
      name: 'customer_sync_outbox_relay_leader',
      help: '1 while this replica holds at least one outbox shard (it relays)',
      registers,
    }),
    relayShardsHeld: new Gauge({
      name: 'customer_sync_outbox_relay_shards',
      help: 'outbox shards this replica relays; across replicas they add up to OUTBOX_SHARDS',
      registers,
    }),
    relayShardsConfigured: new Gauge({
      name: 'customer_sync_outbox_configured_shards',
      help: 'OUTBOX_SHARDS: the shards the replicas share out; an unheld one announces nothing',
      registers,
    }),
    unreadableRecordBatches: new Counter({
      name: 'customer_sync_unreadable_record_batches_total',
      help: 'fetched record batches that could not be decoded (unknown codec, corrupt or oversized compressed data); their partition is paused and fetches them again',
      labelNames: ['topic', 'codec'] as const,
      registers,
    }),
    parkedRecords: new Counter({
      name: 'customer_sync_parked_records_total',
      help: 'outgoing records the broker refused for good (size, content), parked in Postgres for an operator, by kind (announcement, dead_letter) and code',
      labelNames: ['kind', 'code'] as const,
      registers,
    }),
  };
  for (const outcome of OUTCOMES) metrics.events.inc({ outcome }, 0);
  for (const code of ALL_ERROR_CODES) metrics.deadLetters.inc({ code }, 0);
  for (const stage of RETRY_STAGES) metrics.retries.inc({ stage }, 0);
  for (const kind of DATABASE_CONFLICTS)
    for (const stage of [...RETRY_STAGES, 'enrichment'])
      metrics.databaseConflicts.inc({ kind, stage }, 0);
  metrics.relayLeader.set(0);
  metrics.live.set(1);
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Counts a failure that a retry will try to get past, if it is a database conflict. */
export function countDatabaseConflict(metrics: Metrics, stage: string, error: unknown): void {
  const kind = databaseConflictOf(error);
  if (kind !== undefined) metrics.databaseConflicts.inc({ kind, stage });
}

/** Counts one retry of `stage` after `error` (customer_sync_retries_total, and conflicts). */
export function countRetry(metrics: Metrics, stage: string, error: unknown): void {
  metrics.retries.inc({ stage });
  countDatabaseConflict(metrics, stage, error);
}
