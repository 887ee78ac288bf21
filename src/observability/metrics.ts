import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The one metrics registry (SPEC §8). Labels carry codes, outcomes, topics and partitions:
 * never a customer, never a value (PII never reaches a metric label).
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'customer_sync_process_' });
  const registers = [registry];
  return {
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
      name: 'customer_sync_batch_size',
      help: 'messages per applied batch',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500],
      registers,
    }),
    consumerLag: new Gauge({
      name: 'customer_sync_consumer_lag',
      help: 'messages between the last processed offset and the high watermark',
      labelNames: ['topic', 'partition'] as const,
      registers,
    }),
    retries: new Counter({
      name: 'customer_sync_retries_total',
      help: 'transient failures retried with backoff, by stage',
      labelNames: ['stage'] as const,
      registers,
    }),
    outboxBacklog: new Gauge({
      name: 'customer_sync_outbox_backlog',
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
      name: 'customer_sync_enrichment_queue_depth',
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
    relayLeader: new Gauge({
      name: 'customer_sync_outbox_relay_leader',
      help: '1 while this replica holds at least one outbox shard (it relays)',
      registers,
    }),
    relayShardsHeld: new Gauge({
      name: 'customer_sync_outbox_shards_held',
      help: 'outbox shards this replica relays; across replicas they add up to OUTBOX_SHARDS',
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
