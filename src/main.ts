import { type AbortableStartUp, createAbortableStartUp } from './abortable-start-up.ts';
import { applyUpdateBatch } from './application/apply-update-batch.ts';
import type { Config } from './config/config.ts';
import { createEnrichmentWorker } from './enrichment/enrichment-worker.ts';
import { createLendingSystemClient } from './enrichment/lending-system-client.ts';
import { createLendingTargets } from './enrichment/lending-targets.ts';
import { startHealthServer } from './http/health-server.ts';
import { createDeadLetterPublisher } from './messaging/dead-letter-publisher.ts';
import { createProbeKafka, probeKafka } from './messaging/kafka-availability.ts';
import { createKafka } from './messaging/kafka-client.ts';
import { createMessageFormats } from './messaging/message-formats.ts';
import { Murmur2Partitioner } from './messaging/murmur2-partitioner.ts';
import { createOutboxRelay } from './messaging/outbox-relay.ts';
import { ensureTopics } from './messaging/topics.ts';
import { createUpdateConsumer, type UpdateConsumer } from './messaging/update-consumer.ts';
import type { Logger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { connectDatabase, type DatabaseConnection } from './persistence/database.ts';
import { probeDatabase } from './persistence/database-availability.ts';
import { createEnrichmentJobStore } from './persistence/enrichment-job-store.ts';
import { applyMigrations } from './persistence/migrate.ts';
import { createOutboxStore } from './persistence/outbox-store.ts';
import { pruneProcessedEvents } from './persistence/processed-events-pruner.ts';
import { createUpdateBatchStore } from './persistence/update-batch-store.ts';
import { SERVICE_VERSION } from './service-version.ts';
import { createStartUpWaits, logStartUpWaits } from './start-up-waits.ts';

export interface RunningService {
  httpPort: number;
  /** SPEC §4.9: stop fetching, finish and commit the in-flight batch, flush the relay, disconnect */
  stop(): Promise<void>;
}

/**
 * The service's transactions only ever wait on the database, so one idle this long belongs to
 * a client that stopped talking mid-transaction; the server then ends it and frees its locks.
 * Below the consumer's attempt deadline, so a wedged attempt's retry finds its locks free.
 */
const IDLE_IN_TRANSACTION_SESSION_TIMEOUT_MS = 20_000;

interface StartHooks {
  onFatal?: (error: unknown) => void;
  /** aborted when a stop is requested (SIGTERM/SIGINT): cuts a start-up still under way short */
  signal?: AbortSignal;
}

/**
 * Wiring only: builds the adapters from configuration, starts them, and knows how to stop them.
 * A start-up that is cut short by `hooks.signal`, or fails, stops what had started and throws.
 */
export async function startService(
  config: Config,
  logger: Logger,
  hooks: StartHooks = {},
): Promise<RunningService> {
  const startUp = createAbortableStartUp(hooks.signal);
  try {
    return await startComponents(config, logger, hooks, startUp);
  } catch (error) {
    await startUp.rollBack(Date.now() + config.shutdownTimeoutMs);
    throw error;
  }
}

async function startComponents(
  config: Config,
  logger: Logger,
  hooks: StartHooks,
  { step, started }: AbortableStartUp,
): Promise<RunningService> {
  logger.info(
    { version: SERVICE_VERSION, groupId: config.kafka.groupId },
    'starting customer-sync',
  );
  const metrics = createMetrics();
  // Listening before anything else: while start-up waits for Postgres or Kafka, /healthz says
  // the process is alive (no restart would help) and /readyz says what it is waiting for.
  let running: { consumer: UpdateConsumer; database: DatabaseConnection } | undefined;
  const waits = createStartUpWaits({
    config,
    timeoutMs: config.startUpTimeoutMs,
    signal: hooks.signal,
    ...logStartUpWaits(logger),
  });
  const http = await step(
    startHealthServer({
      port: config.http.port,
      ...(config.http.host !== undefined ? { host: config.http.host } : {}),
      registry: metrics.registry,
      logger,
      notReadyReason: () =>
        running === undefined ? (waits.waitingFor() ?? 'starting up') : undefined,
      readiness: [
        { name: 'consumerGroup', check: async () => running?.consumer.isGroupMember() ?? false },
        {
          name: 'database',
          check: async () =>
            running !== undefined && (await running.database.sql`select 1 as ok`).length === 1,
        },
      ],
    }),
  );
  started(() => http.close());
  logger.info({ httpPort: http.port }, 'health endpoints listening');

  // Cut short, a migration is rolled back with its connection when the process exits: drizzle
  // applies them in one transaction, and the advisory lock is the session's. Not timed: it may
  // wait for another replica's migration.
  if (config.database.migrateOnStart)
    await step(waits.database(() => applyMigrations(config.database), { timed: false }));
  const schema = await step(
    waits.database(() => probeDatabase(config.database, { checkSchema: true })),
  );
  if (schema.schemaNewerThanCode)
    logger.warn(
      'the database has migrations newer than this version (a newer version migrated it); going on',
    );

  const database = connectDatabase(config.database, {
    poolMax: config.database.poolMax,
    idleInTransactionSessionTimeoutMs: IDLE_IN_TRANSACTION_SESSION_TIMEOUT_MS,
  });
  started(() => database.close());
  const formats = await step(createMessageFormats(config, metrics, logger));
  const kafka = createKafka(config, logger);
  // Every Kafka step first reaches a broker without kafkajs' retries, so an unreachable broker
  // is reported within a second, not after kafkajs' silent ~40 s.
  const probeKafkaClient = createProbeKafka(config, logger);
  const reachKafka = () => probeKafka(probeKafkaClient);
  await step(waits.kafka(reachKafka));
  /** Kafka work that may rightly take long, done once a broker answers, waited for like it. */
  const onKafka = <T>(work: () => Promise<T>) =>
    step(
      waits.kafka(
        async () => {
          await reachKafka();
          return work();
        },
        { timed: false },
      ),
    );

  // A Kafka client is stopped only once it has connected: disconnecting one whose connect is
  // still pending waits for its requests (up to kafkajs' 30 s request timeout), and it has
  // nothing to flush.
  if (config.kafka.createTopics) {
    await onKafka(async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        await ensureTopics(admin, config);
      } finally {
        await admin.disconnect();
      }
    });
  }

  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    // kafkajs' DefaultPartitioner, without its 3.6 KiB of allocation per message (bench/).
    createPartitioner: Murmur2Partitioner,
  });
  await onKafka(() => producer.connect());
  started(() => producer.disconnect());

  // The relay's lease lives on a connection of its own (see outbox-store.ts for why).
  const outboxStore = createOutboxStore(database.sql, {
    leaseDatabaseUrl: config.database.url,
    leaseDatabaseTls: config.database.tls,
    shards: config.outbox.shards,
    rebalanceMs: config.outbox.rebalanceMs,
  });
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
  started(() => outboxStore.close());
  const unlisten = await step(waits.database(() => outboxStore.listen(() => relay.wake())));
  started(() => unlisten());

  const batchStore = createUpdateBatchStore(database.db);
  const consumer = createUpdateConsumer({
    kafka,
    groupId: config.kafka.groupId,
    topic: config.topics.updateRequested,
    partitionsConsumedConcurrently: config.kafka.partitionsConsumedConcurrently,
    maxBytesPerPartition: config.kafka.maxBytesPerPartition,
    sessionTimeoutMs: config.kafka.sessionTimeoutMs,
    decoder: formats.decoder,
    applyBatch: (requests, signal) => applyUpdateBatch(batchStore, requests, { signal }),
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
  const lendingTargets = createLendingTargets({
    ...(config.lendingApiUrl !== undefined ? { defaultUrl: config.lendingApiUrl } : {}),
    ...(config.lendingApi.defaultToken !== undefined
      ? { defaultToken: config.lendingApi.defaultToken }
      : {}),
    tenantTokens: config.lendingApi.tenantTokens,
    allowInsecureHttp: config.lendingApi.allowInsecureHttp,
  });
  const enrichment =
    config.enrichment.concurrency > 0
      ? createEnrichmentWorker({
          queue: enrichmentQueue,
          lending: createLendingSystemClient({
            timeoutMs: config.lendingApi.timeoutMs,
            onCall: ({ operation, outcome, seconds }) =>
              metrics.lendingRequests.observe({ operation, outcome }, seconds),
          }),
          targets: lendingTargets,
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
    ? await step(waits.database(() => enrichmentQueue.listen(() => enrichment.wake())))
    : async () => {};
  started(() => unlistenEnrichment());

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
  started(() => {
    clearInterval(backlogSampler);
    clearInterval(pruner);
  });

  // Cut short from here on, the roll-back stops as stop() below does: the consumer first, then
  // the enrichment jobs and the relay's flush, then the connections.
  relay.start();
  started((deadline) => relay.stop(deadline - 1_000));
  enrichment?.start();
  started((deadline) => enrichment?.stop(deadline - 3_000));
  // Before start(), which resolves only once the group is joined: a stop requested while it
  // joins leaves the group too.
  started(() => consumer.stop());
  await onKafka(() => consumer.start());
  running = { consumer, database };
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
