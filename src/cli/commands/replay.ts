import { randomUUID } from 'node:crypto';
import type { Admin, KafkaMessage } from 'kafkajs';
import { applyUpdateBatch, type UpdateBatchStore } from '../../application/apply-update-batch.ts';
import { replayRange } from '../../application/replay-range.ts';
import { skipAlreadyAnnounced } from '../../application/skip-already-announced.ts';
import type { Config } from '../../config/config.ts';
import { kafkaKeyOf } from '../../domain/customer-key.ts';
import { CustomerSyncError, describeFailure } from '../../errors.ts';
import { createMessageFormats } from '../../messaging/consumer/message-formats.ts';
import { createUpdateChunkProcessor } from '../../messaging/consumer/update-chunk-processor.ts';
import { DEFAULT_CHUNK_SIZE } from '../../messaging/consumer/update-consumer.ts';
import {
  createDeadLetterPublisher,
  type DeadLetterPublisher,
} from '../../messaging/dead-letters/dead-letter-publisher.ts';
import {
  loadDeadLetteredPositions,
  skipAlreadyDeadLettered,
} from '../../messaging/dead-letters/dead-lettered-positions.ts';
import type { createKafka } from '../../messaging/kafka/kafka-client.ts';
import type { RecordSender } from '../../messaging/kafka/record-sender.ts';
import {
  messagesIn,
  type PartitionRange,
  type RangeBound,
  readTopicRange,
  resolveTopicRange,
} from '../../messaging/kafka/topic-range.ts';
import { createAnnouncedEventIndex } from '../../messaging/outbox/announced-event-index.ts';
import type { Logger } from '../../observability/logger.ts';
import { createMetrics } from '../../observability/metrics.ts';
import { connectDatabase } from '../../persistence/database.ts';
import { withDryRunUpdateBatchStore } from '../../persistence/dry-run-update-batch-store.ts';
import { createParkedRecordStore } from '../../persistence/parked-record-store.ts';
import { createUpdateBatchStore } from '../../persistence/update-batch-store.ts';
import { SERVICE_VERSION } from '../../service-version.ts';
import { commandKafka } from '../command-kafka.ts';
import { createCommandRecordSender } from '../command-record-sender.ts';
import { EXIT_INTERRUPTED, stopOnInterrupt } from '../interrupt.ts';
import { loadCommandConfig } from '../load-command-config.ts';
import { createProgress, type Progress } from '../progress.ts';
import {
  checkRangeOrder,
  parsePartitions,
  parseRangeBound,
  parseTenantId,
} from '../range-arguments.ts';
import { reachDependencies } from '../reach-dependencies.ts';
import { parseCommandLine, UsageError } from '../usage-error.ts';
import { printPlan, printReport, type ReplayResult } from './replay-output.ts';

export const replayHelp = `customer-sync replay --from <offset | time | earliest> [options]

Re-consumes a range of customer.update.requested through the service's own apply path
(decode, validate, apply as last-writer-wins, dead-letter) and stops at the end of the range.

Options:
  --from <bound>        where to start: an offset (in every chosen partition), 'earliest', or
                        an RFC 3339 time (2026-03-01T09:00:00Z) resolved with the broker's
                        offsets-for-times (Kafka message timestamps)
  --to <bound>          where to stop, exclusive: an offset, a time or 'latest' (the default:
                        the end of each partition when the replay starts)
  --partition <list>    only these partitions, e.g. 0,3
  --tenant <tenantId>   only this tenant's messages; the others are skipped
  --dry-run             report what a replay would change, and write and send nothing
  --json                print the report as JSON

Safe at any time, also beside the running service and over a live database (SPEC §4.2–4.3):
an event already applied changes nothing and emits nothing; events apply in any order to the
same result. It reads with a consumer group of its own and commits nothing, so the service's
group never moves. A change it applies is announced on customer.updated unless that topic
already carries it (same eventId); a message that fails is dead-lettered unless the DLQ already
holds it. Ctrl-C stops after the chunk in flight; rerunning the same command finishes the job.

Exit codes: 0 done, 1 failed, 2 bad arguments, 130 interrupted.`;

interface ReplayArguments {
  from: RangeBound;
  to?: RangeBound;
  partitions?: number[];
  tenant?: string;
  dryRun: boolean;
  json: boolean;
}

function parseReplayArguments(args: string[]): ReplayArguments {
  const { values } = parseCommandLine(args, {
    from: { type: 'string' },
    to: { type: 'string' },
    partition: { type: 'string' },
    tenant: { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (values.from === undefined)
    throw new UsageError('replay: --from is required (an offset, earliest, or an RFC 3339 time)');
  const from = parseRangeBound(values.from, 'replay: --from');
  const to = values.to === undefined ? undefined : parseRangeBound(values.to, 'replay: --to');
  checkRangeOrder(from, to);
  return {
    from,
    ...(to ? { to } : {}),
    ...(values.partition !== undefined ? { partitions: parsePartitions(values.partition) } : {}),
    ...(values.tenant !== undefined ? { tenant: parseTenantId(values.tenant) } : {}),
    dryRun: values['dry-run'] === true,
    json: values.json === true,
  };
}

export async function replayCommand(args: string[]): Promise<number> {
  const options = parseReplayArguments(args);
  const config = loadCommandConfig(['kafka', 'database']);
  await reachDependencies(config, ['database', 'kafka']);
  const { logger, kafka } = commandKafka(config, 'replay');
  const runId = randomUUID();
  // Groups of this run's own: the service's group is never joined, so it never moves.
  const groupId = `${config.kafka.groupId}.replay.${runId}`;
  const topic = config.topics.updateRequested;

  const admin = kafka.admin();
  await admin.connect();
  const interruption = stopOnInterrupt('replay');
  try {
    const ranges = await resolveRange(admin, topic, options);
    const total = Number(messagesIn(ranges));
    printPlan({ runId, topic, total, ranges, options });
    const progress = createProgress('replay', total);
    // A dry run needs a connection of its own (dry-run-update-batch-store.ts); a replay
    // needs two: the batch transaction and nothing else.
    const database = connectDatabase(config.database, {
      poolMax: options.dryRun ? 1 : 2,
      applicationName: 'customer-sync-replay',
      timeouts: {
        ...config.database.timeouts,
        // A dry run is one read-only transaction, idle while the next messages are fetched
        // from Kafka; it takes no locks, so a generous limit costs the service nothing.
        ...(options.dryRun ? { idleInTransactionSessionTimeoutMs: 300_000 } : {}),
      },
    });
    let sender: RecordSender | undefined;
    try {
      if (!options.dryRun) {
        sender = createCommandRecordSender(kafka, config, logger);
        await sender.connect();
      }
      const run = (store: UpdateBatchStore, failure: () => CustomerSyncError | undefined) =>
        runReplay({
          config,
          logger,
          kafka,
          admin,
          groupId,
          runId,
          topic,
          ranges,
          options,
          store,
          failure,
          progress,
          signal: interruption.signal,
          deadLetterSink: sender
            ? createDeadLetterPublisher({
                sender,
                deadLetterTopic: config.topics.deadLetter,
                context: {
                  serviceVersion: SERVICE_VERSION,
                  now: () => new Date(),
                  extraHeaders: { 'replay.run-id': runId },
                },
                parked: createParkedRecordStore(database.sql),
                metrics: createMetrics(),
                logger,
              })
            : { publish: async () => {} },
        });
      const result = options.dryRun
        ? await withDryRunUpdateBatchStore(database.db, ({ store, failure }) => run(store, failure))
        : await run(createUpdateBatchStore(database.db), () => undefined);
      printReport(result, { runId, ranges, options, progress });
      return result.report.completed ? 0 : EXIT_INTERRUPTED;
    } finally {
      await sender?.disconnect().catch(() => {});
      await database.close();
    }
  } finally {
    interruption.dispose();
    await admin.disconnect().catch(() => {});
  }
}

async function resolveRange(
  admin: Admin,
  topic: string,
  options: ReplayArguments,
): Promise<PartitionRange[]> {
  try {
    return await resolveTopicRange(admin, topic, {
      from: options.from,
      ...(options.to ? { to: options.to } : {}),
      ...(options.partitions ? { partitions: options.partitions } : {}),
    });
  } catch (error) {
    if (error instanceof CustomerSyncError && error.code === 'range.unknown_partition')
      throw new UsageError(`replay: --partition: ${error.message}`);
    throw error;
  }
}

async function runReplay(context: {
  config: Config;
  logger: Logger;
  kafka: ReturnType<typeof createKafka>;
  admin: Admin;
  groupId: string;
  runId: string;
  topic: string;
  ranges: PartitionRange[];
  options: ReplayArguments;
  store: UpdateBatchStore;
  failure: () => CustomerSyncError | undefined;
  progress: Progress;
  signal: AbortSignal;
  deadLetterSink: DeadLetterPublisher;
}): Promise<ReplayResult> {
  const { config, options, progress } = context;
  const metrics = createMetrics();
  const formats = await createMessageFormats(config, metrics, context.logger);
  let note = '';
  let read = 0;
  const announcements = skipAlreadyAnnounced(
    context.store,
    createAnnouncedEventIndex({
      kafka: context.kafka,
      admin: context.admin,
      topic: config.topics.customerUpdated,
      groupId: `${context.groupId}.announced`,
      signal: context.signal,
      onLoading: (indexed, total) => {
        note = `(reading customer.updated: ${indexed}/${total})`;
        progress.update(read, note);
      },
    }),
  );
  const deadLetters = skipAlreadyDeadLettered(context.deadLetterSink, () =>
    loadDeadLetteredPositions({
      kafka: context.kafka,
      admin: context.admin,
      deadLetterTopic: config.topics.deadLetter,
      groupId: `${context.groupId}.dead-letters`,
      signal: context.signal,
    }),
  );
  const tenant = options.tenant;
  const processChunk = createUpdateChunkProcessor({
    decoder: formats.decoder,
    applyBatch: (requests) =>
      applyUpdateBatch(announcements.store, requests, {
        maxDocumentBytes: config.customerMaxDocumentBytes,
      }),
    deadLetters,
    metrics,
    ...(tenant !== undefined
      ? {
          select: (decoded, message: KafkaMessage) =>
            decoded.ok
              ? decoded.request.tenantId === tenant
              : (message.key?.toString('utf8') ?? '').startsWith(
                  kafkaKeyOf({ tenantId: tenant, externalId: '' }),
                ),
        }
      : {}),
  });
  const log = context.logger.child({ topic: context.topic, runId: context.runId });

  const report = await replayRange<KafkaMessage>({
    read: (handle) =>
      readTopicRange({
        kafka: context.kafka,
        topic: context.topic,
        groupId: context.groupId,
        ranges: context.ranges,
        // Each replayed chunk is a transaction of its own: as many partitions at once as the
        // service allows transactions in flight.
        partitionsConsumedConcurrently: config.kafka.transactionsConcurrently,
        maxBytesPerPartition: config.kafka.maxBytesPerPartition,
        sessionTimeoutMs: config.kafka.sessionTimeoutMs,
        signal: context.signal,
        onBatch: handle,
      }),
    async processChunk(partition, messages) {
      const outcomes = await processChunk({
        topic: context.topic,
        partition,
        messages,
        log: log.child({ partition }),
      });
      const failure = context.failure();
      if (failure) throw failure;
      return outcomes;
    },
    prepareForRetry: async (error) => {
      const prepared = await announcements.prepareForRetry(error);
      note = '';
      return prepared;
    },
    chunkSize: DEFAULT_CHUNK_SIZE,
    retry: config.retry,
    signal: context.signal,
    onProgress: (report) => {
      read = report.read;
      progress.update(read, note);
    },
    onRetry: ({ attempt, delayMs, error }) => {
      const { kind, code } = describeFailure(error);
      note = `(retrying after ${kind}${code ? ` ${code}` : ''}, attempt ${attempt + 1})`;
      progress.update(read, note);
      context.logger.warn({ attempt, delayMs, failure: error }, 'replay retry');
    },
  });
  return {
    report,
    dryRun: options.dryRun,
    announced: { written: announcements.written(), alreadyAnnounced: announcements.suppressed() },
    deadLetters: { alreadyInDlq: deadLetters.skipped() },
  };
}
