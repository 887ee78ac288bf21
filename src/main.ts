import { applyUpdateBatch } from './application/apply-update-batch.ts';
import type { Config } from './config/config.ts';
import { createEnrichmentWorker } from './enrichment/enrichment-worker.ts';
import { createLendingSystemClient } from './enrichment/lending-system-client.ts';
import { startHealthServer } from './http/health-server.ts';
import { createDeadLetterPublisher } from './messaging/dead-letter-publisher.ts';
import { createKafka } from './messaging/kafka-client.ts';
import { createMessageFormats } from './messaging/message-formats.ts';
import { Murmur2Partitioner } from './messaging/murmur2-partitioner.ts';
import { createOutboxRelay } from './messaging/outbox-relay.ts';
import { ensureTopics } from './messaging/topics.ts';
import { createUpdateConsumer } from './messaging/update-consumer.ts';
import type { Logger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { connectDatabase } from './persistence/database.ts';
import { createEnrichmentJobStore } from './persistence/enrichment-job-store.ts';
import { applyMigrations } from './persistence/migrate.ts';
import { createOutboxStore } from './persistence/outbox-store.ts';
import { pruneProcessedEvents } from './persistence/processed-events-pruner.ts';
import { createUpdateBatchStore } from './persistence/update-batch-store.ts';
import { SERVICE_VERSION } from './service-version.ts';

export interface RunningService {
  httpPort: number;
  /** SPEC §4.9: stop fetching, finish and commit the in-flight batch, flush the relay, disconnect */
  stop(): Promise<void>;
}

/** Wiring only: builds the adapters from configuration, starts them, and knows how to stop them. */
export async function startService(
  config: Config,
  logger: Logger,
  hooks: { onFatal?: (error: unknown) => void } = {},
): Promise<RunningService> {
  logger.info(
    { version: SERVICE_VERSION, groupId: config.kafka.groupId },
    'starting customer-sync',
  );
  if (config.database.migrateOnStart) await applyMigrations(config.database.url);

  const database = connectDatabase(config.database.url, { poolMax: config.database.poolMax });
  const metrics = createMetrics();
  const formats = await createMessageFormats(config, metrics, logger);
  const kafka = createKafka(config, logger);

  if (config.kafka.createTopics) {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, config);
    } finally {
      await admin.disconnect();
    }
  }

  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    // kafkajs' DefaultPartitioner, without its 3.6 KiB of allocation per message (bench/).
    createPartitioner: Murmur2Partitioner,
  });
  await producer.connect();

  // The relay's lease lives on a connection of its own (see outbox-store.ts for why).
  const outboxStore = createOutboxStore(database.sql, { leaseDatabaseUrl: config.database.url });
  const relay = createOutboxRelay({
    store: outboxStore,
    producer,
    topic: config.topics.customerUpdated,
    encoder: formats.encoder,
    batchSize: config.outbox.batchSize,
    pollIntervalMs: config.outbox.pollIntervalMs,
    retry: config.retry,
    metrics,
    logger,
  });
  const unlisten = await outboxStore.listen(() => relay.wake());

  const batchStore = createUpdateBatchStore(database.db);
  const consumer = createUpdateConsumer({
    kafka,
    groupId: config.kafka.groupId,
    topic: config.topics.updateRequested,
    partitionsConsumedConcurrently: config.kafka.partitionsConsumedConcurrently,
    maxBytesPerPartition: config.kafka.maxBytesPerPartition,
    sessionTimeoutMs: config.kafka.sessionTimeoutMs,
    decoder: formats.decoder,
    applyBatch: (requests) => applyUpdateBatch(batchStore, requests),
    deadLetters: createDeadLetterPublisher(producer, config.topics.deadLetter, {
      serviceVersion: SERVICE_VERSION,
      now: () => new Date(),
    }),
    retry: config.retry,
    metrics,
    logger,
    onAnnounced: () => relay.wake(),
    ...(hooks.onFatal ? { onFatal: hooks.onFatal } : {}),
  });

  // SPEC §6: enrichment jobs run beside the consumer, never in its way.
  const enrichmentQueue = createEnrichmentJobStore(database.db, database.sql);
  const enrichment =
    config.enrichment.concurrency > 0
      ? createEnrichmentWorker({
          queue: enrichmentQueue,
          lending: createLendingSystemClient({
            timeoutMs: config.lendingApi.timeoutMs,
            tokenFor: (tenantId) =>
              config.lendingApi.tenantTokens[tenantId] ?? config.lendingApi.defaultToken,
            onCall: ({ operation, outcome, seconds }) =>
              metrics.lendingRequests.observe({ operation, outcome }, seconds),
          }),
          ...(config.lendingApiUrl !== undefined
            ? { defaultLendingApiUrl: config.lendingApiUrl }
            : {}),
          concurrency: config.enrichment.concurrency,
          pollIntervalMs: config.enrichment.pollIntervalMs,
          leaseMs: config.enrichment.leaseMs,
          deadlineMs: config.enrichment.deadlineMs,
          retry: config.enrichment.retry,
          breaker: config.enrichment.breaker,
          metrics,
          logger,
        })
      : undefined;
  const unlistenEnrichment = enrichment
    ? await enrichmentQueue.listen(() => enrichment.wake())
    : async () => {};

  const http = await startHealthServer({
    port: config.http.port,
    registry: metrics.registry,
    logger,
    readiness: [
      { name: 'consumerGroup', check: async () => consumer.isGroupMember() },
      { name: 'database', check: async () => (await database.sql`select 1 as ok`).length === 1 },
    ],
  });

  const backlogSampler = setInterval(() => {
    outboxStore
      .backlog()
      .then(({ count, oldestAgeSeconds }) => {
        metrics.outboxBacklog.set(count);
        metrics.outboxOldestAge.set(oldestAgeSeconds);
      })
      .catch(() => {}); // the database being down is reported by /readyz and the retry metrics
  }, 5_000);
  backlogSampler.unref();

  const pruner = setInterval(() => {
    pruneProcessedEvents(database.sql, config.database.processedEventsRetentionDays)
      .then(
        (count) => count > 0 && logger.info({ count }, 'pruned processed event ids past retention'),
      )
      .catch(() => {}); // tried again next hour; an outage is reported elsewhere
  }, 3_600_000);
  pruner.unref();

  relay.start();
  enrichment?.start();
  await consumer.start();
  logger.info({ httpPort: http.port }, 'customer-sync is running');

  return {
    httpPort: http.port,
    async stop() {
      const deadline = Date.now() + config.shutdownTimeoutMs;
      logger.info('stopping: finishing the in-flight batch');
      clearInterval(backlogSampler);
      clearInterval(pruner);
      // Enrichment jobs in flight get until shortly before the relay's flush deadline.
      await Promise.all([consumer.stop(), enrichment?.stop(deadline - 3_000)]);
      await unlistenEnrichment().catch(() => {});
      logger.info('consumer stopped; flushing the outbox');
      await relay.stop(deadline - 1_000);
      await outboxStore.close();
      await unlisten().catch(() => {});
      await producer.disconnect();
      await http.close();
      await database.close();
      logger.info('stopped');
    },
  };
}
