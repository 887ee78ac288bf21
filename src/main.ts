import { applyUpdateBatch } from './application/apply-update-batch.ts';
import type { Config } from './config/config.ts';
import { createEnrichmentWorker } from './enrichment/enrichment-worker.ts';
import { createLendingSystemClient } from './enrichment/lending-system-client.ts';
import { createLendingTargets } from './enrichment/lending-targets.ts';
import { startHealthServer } from './http/health-server.ts';
import { createConsumerLagSampler } from './messaging/consumer/consumer-lag-sampler.ts';
import { createMessageFormats } from './messaging/consumer/message-formats.ts';
import { createUpdateConsumer, type UpdateConsumer } from './messaging/consumer/update-consumer.ts';
import { createDeadLetterPublisher } from './messaging/dead-letters/dead-letter-publisher.ts';
import { createProbeKafka, probeKafka } from './messaging/kafka/kafka-availability.ts';
import {
  COMPRESSION_TYPE_OF,
  createKafka,
  createProducer,
} from './messaging/kafka/kafka-client.ts';
import { createRecordSender } from './messaging/kafka/record-sender.ts';
import { ensureTopics } from './messaging/kafka/topics.ts';
import { createOutboxRelay } from './messaging/outbox/outbox-relay.ts';
import { createConsumerProgress } from './observability/consumer-progress.ts';
import { createLivenessMonitor, type LivenessMonitor } from './observability/liveness-monitor.ts';
import { loadTracing } from './observability/load-tracing.ts';
import type { Logger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { connectDatabase, type DatabaseConnection } from './persistence/database.ts';
import { probeDatabase } from './persistence/database-availability.ts';
import { createEnrichmentJobStore } from './persistence/enrichment-job-store.ts';
import { applyMigrations, migrationTimeoutsOf } from './persistence/migrate.ts';
import { createOutboxStore } from './persistence/outbox-store.ts';
import { createParkedRecordStore } from './persistence/parked-record-store.ts';
import { startProcessedEventsPruning } from './persistence/processed-events-pruner.ts';
import { createUpdateBatchStore } from './persistence/update-batch-store.ts';
import { SERVICE_VERSION } from './service-version.ts';
import { type AbortableStartUp, createAbortableStartUp } from './start-up/abortable-start-up.ts';
import { createStartUpWaits, logStartUpWaits } from './start-up/start-up-waits.ts';

export interface RunningService {
  httpPort: number;
  /** SPEC §4.9: stop fetching, finish and commit the in-flight batch, flush the relay, disconnect */
  stop(): Promise<void>;
}

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
  // Set once the consumer exists: until then /healthz only says the process answers.
  let liveness: LivenessMonitor | undefined;
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
      liveness: () => liveness?.verdict() ?? { live: true, problems: [] },
      notReadyReason: () =>
        running === undefined ? (waits.waitingFor() ?? 'starting up') : undefined,
      readiness: [
        { name: 'consumerGroup', check: async () => running?.consumer.isGroupMember() ?? false },
        { name: 'broker', check: async () => liveness?.answering('broker') ?? false },
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
    await step(
      waits.database(() => applyMigrations(config.database, migrationTimeoutsOf(config)), {
        timed: false,
      }),
    );
  const schema = await step(
    waits.database(() => probeDatabase(config.database, { checkSchema: true })),
  );
  if (schema.schemaNewerThanCode)
    logger.warn(
      'the database has migrations newer than this version (a newer version migrated it); going on',
    );

  const database = connectDatabase(config.database, {
    poolMax: config.database.poolMax,
    // SPEC §4.5: lock, statement and idle-in-transaction limits on every session.
    timeouts: config.database.timeouts,
  });
  started(() => database.close());
  // Off unless an OTLP endpoint is configured; then the SDK is loaded here, and only here.
  const tracing = await step(loadTracing(config));
  if (tracing) {
    logger.info('tracing enabled: spans are exported over OTLP/HTTP');
    started(() => tracing.shutdown());
  }
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

  // The relay and the dead-letter publisher each send through a sender of their own
  // (record-sender.ts): a producer has one request in flight, so sharing one, a chunk's dead
  // letters waited behind the relay's announcements and the announcements behind the letters.
  const newSender = () =>
    createRecordSender({
      // As the service always had it (kafkajs' default): the broker may create a missing topic.
      createProducer: () => createProducer(kafka, { allowAutoTopicCreation: true }),
      compression: COMPRESSION_TYPE_OF[config.kafka.compression],
      maxRequestBytes: config.kafka.maxRequestBytes,
      logger,
    });
  const sender = newSender();
  const deadLetterSender = newSender();
  await onKafka(() => Promise.all([sender.connect(), deadLetterSender.connect()]));
  started(() => Promise.all([sender.disconnect(), deadLetterSender.disconnect()]));
  const parked = createParkedRecordStore(database.sql);

  // The relay's lease lives on a connection of its own (see outbox-store.ts for why).
  const outboxStore = createOutboxStore(database.sql, {
    leaseDatabaseUrl: config.database.url,
    leaseDatabaseTls: config.database.tls,
    shards: config.outbox.shards,
    rebalanceMs: config.outbox.rebalanceMs,
    timeouts: config.database.timeouts,
  });
  metrics.relayShardsConfigured.set(config.outbox.shards);
  const relay = createOutboxRelay({
    store: outboxStore,
    sender,
    topic: config.topics.customerUpdated,
    encoder: formats.encoder,
    batchSize: config.outbox.batchSize,
    maxBatchBytes: config.kafka.maxRequestBytes,
    pollIntervalMs: config.outbox.pollIntervalMs,
    retry: config.retry,
    metrics,
    logger,
    ...(tracing ? { tracing } : {}),
  });
  started(() => outboxStore.close());
  const unlisten = await step(waits.database(() => outboxStore.listen(() => relay.wake())));
  started(() => unlisten());

  const batchStore = createUpdateBatchStore(database.db);
  const progress = createConsumerProgress();
  const consumer = createUpdateConsumer({
    kafka,
    groupId: config.kafka.groupId,
    topic: config.topics.updateRequested,
    partitionsConsumedConcurrently: config.kafka.partitionsConsumedConcurrently,
    transactionsConcurrently: config.kafka.transactionsConcurrently,
    maxBytesPerPartition: config.kafka.maxBytesPerPartition,
    sessionTimeoutMs: config.kafka.sessionTimeoutMs,
    decoder: formats.decoder,
    applyBatch: (requests, signal, traceContextOf) =>
      applyUpdateBatch(batchStore, requests, {
        signal,
        maxDocumentBytes: config.customerMaxDocumentBytes,
        ...(traceContextOf ? { traceContextOf } : {}),
      }),
    deadLetters: createDeadLetterPublisher({
      sender: deadLetterSender,
      deadLetterTopic: config.topics.deadLetter,
      context: { serviceVersion: SERVICE_VERSION, now: () => new Date() },
      parked,
      metrics,
      logger,
    }),
    retry: config.retry,
    metrics,
    logger,
    onAnnounced: () => relay.wake(),
    progress,
    ...(tracing ? { tracing } : {}),
    ...(hooks.onFatal ? { onFatal: hooks.onFatal } : {}),
  });

  // SPEC §6: enrichment jobs run beside the consumer, never in its way.
  const enrichmentQueue = createEnrichmentJobStore(database.db, database.sql);
  const lendingTargets = createLendingTargets({
    ...(config.lendingApi.url !== undefined ? { defaultUrl: config.lendingApi.url } : {}),
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

  // Liveness (observability/liveness-rules.ts) judges the consumer only while the broker and
  // the database answer. Each is asked on a connection of its own, so that a pool or a client
  // wedged by the service itself is not mistaken for the dependency being down.
  const lagSampler = createConsumerLagSampler({
    admin: kafka.admin({ retry: { retries: 0 } }),
    groupId: config.kafka.groupId,
    topic: config.topics.updateRequested,
    progress,
    metrics,
  });
  started(() => lagSampler.close());
  const probeConnection = connectDatabase(config.database, {
    poolMax: 1,
    applicationName: 'customer-sync-probe',
    timeouts: config.database.timeouts,
  });
  started(() => probeConnection.close());
  liveness = createLivenessMonitor({
    progress,
    probes: [
      { name: 'broker', probe: () => lagSampler.sample() },
      {
        name: 'database',
        probe: async () => (await probeConnection.sql`select 1 as ok`).length === 1,
      },
    ],
    probeIntervalMs: config.liveness.lagSampleIntervalMs,
    thresholds: config.liveness,
    metrics,
    logger,
  });
  const monitor = liveness;
  started(() => monitor.stop());
  await step(monitor.start());

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

  // SPEC §4.2 housekeeping on the database's clock: due once an hour across all replicas, asked
  // for soon after start (jittered, so a deploy's replicas do not ask together) and every five
  // minutes, so replicas that restart more often than hourly still prune.
  const pruning = startProcessedEventsPruning({
    sql: database.sql,
    retentionDays: config.database.processedEventsRetentionDays,
    intervalMs: 3_600_000,
    checkEveryMs: 300_000,
    firstCheckAfterMs: 10_000 + Math.round(Math.random() * 50_000),
    logger,
    onPruned: (count) => metrics.processedEventsPruned.inc(count),
  });
  started(async () => {
    clearInterval(backlogSampler);
    await pruning.stop();
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
      const prunerStopped = pruning.stop();
      // Enrichment jobs in flight get until shortly before the relay's flush deadline.
      await Promise.all([consumer.stop(), enrichment?.stop(deadline - 3_000)]);
      await unlistenEnrichment().catch(() => {});
      logger.info('consumer stopped; flushing the outbox');
      await relay.stop(deadline - 1_000);
      await prunerStopped;
      await outboxStore.close();
      await unlisten().catch(() => {});
      await Promise.all([sender.disconnect(), deadLetterSender.disconnect()]);
      monitor.stop();
      await lagSampler.close();
      await http.close();
      await probeConnection.close();
      await database.close();
      await tracing?.shutdown().catch(() => {});
      logger.info('stopped');
    },
  };
}
