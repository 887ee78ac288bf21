import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { MessageOutcomeKind } from '../../application/message-outcome.ts';
import {
  ATTEMPT_TIMED_OUT,
  type BackoffSettings,
  backoffDelayMs,
  sleep,
  withDeadline,
} from '../../application/retry-policy.ts';
import { SERVICE_FAILURE_CODES } from '../../contracts/error-codes.ts';
import { CustomerSyncError, describeFailure } from '../../errors.ts';
import type { ConsumerProgress } from '../../observability/consumer-progress.ts';
import type { Logger } from '../../observability/logger.ts';
import { countRetry, type Metrics } from '../../observability/metrics.ts';
import type { ChunkTrace, Tracing } from '../../observability/tracing.ts';
import type { DeadLetterPublisher } from '../dead-letters/dead-letter-publisher.ts';
import { committingInBackground } from './background-offset-commits.ts';
import type { UpdateRequestDecoder } from './decode-update-request.ts';
import { sharingOffsetCommits } from './shared-offset-commits.ts';
import { sharingTransactions } from './shared-transactions.ts';
import {
  type UnreadableRecordBatch,
  unreadableRecordBatchOf,
} from './unreadable-record-batches.ts';
import { type ApplyBatch, createUpdateChunkProcessor } from './update-chunk-processor.ts';

export interface UpdateConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topic: string;
  partitionsConsumedConcurrently: number;
  /** chunk transactions in flight at once (CONSUMER_TRANSACTIONS_CONCURRENTLY); partitions beyond wait their turn */
  transactionsConcurrently: number;
  maxBytesPerPartition: number;
  /**
   * A replica that died without leaving the group (kill -9) holds its partitions this long;
   * default 30 s.
   */
  sessionTimeoutMs?: number;
  /** messages applied per database transaction; larger batches are split */
  chunkSize?: number;
  /** read the topic from the start when the group has no committed offset */
  fromBeginning?: boolean;
  decoder: UpdateRequestDecoder;
  /** applies in one transaction; once `signal` has aborted, it must not commit */
  applyBatch: ApplyBatch;
  deadLetters: DeadLetterPublisher;
  retry: BackoffSettings;
  /**
   * The longest one attempt at a chunk (apply, then dead letters) may take before it is
   * abandoned and retried as a transient failure; DEFAULT_APPLY_ATTEMPT_TIMEOUT_MS if unset.
   */
  applyAttemptTimeoutMs?: number;
  metrics: Metrics;
  logger: Logger;
  /** called after each committed chunk that wrote to the outbox, to wake the relay */
  onAnnounced?: () => void;
  /** kafkajs gave up on the consumer: the process should exit and be restarted */
  onFatal?: (error: unknown) => void;
  /** told of joins, fetches, chunks and commits: what liveness and the lag metrics read */
  progress?: ConsumerProgress;
  /** set only when tracing is on: without it the loop makes no tracing call at all */
  tracing?: Tracing;
}

export interface UpdateConsumer {
  start(): Promise<void>;
  /** stops fetching, lets the in-flight batch finish and commit, then leaves the group */
  stop(): Promise<void>;
  /** joined the consumer group and has not stopped or crashed since */
  isGroupMember(): boolean;
}

type Outcome = MessageOutcomeKind;

/** Messages applied per database transaction unless the options say otherwise. */
export const DEFAULT_CHUNK_SIZE = 500;

/**
 * An attempt that has not settled after this long is waiting on something that will not
 * answer. Far above a healthy attempt (milliseconds to a few seconds, including postgres.js'
 * 30 s connect timeout when the database is down), so only a wedged one is cut short.
 */
export const DEFAULT_APPLY_ATTEMPT_TIMEOUT_MS = 60_000;

/**
 * The consumer loop (SPEC §4.1, §4.4, §4.5). Per partition batch, per chunk: decode, apply in
 * one transaction, dead-letter what cannot be applied (update-chunk-processor.ts, shared with
 * `replay`), and only then commit the offset. A transient failure pauses the partition and
 * retries the same chunk with backoff, forever if need be; nothing here skips a message. This
 * is the code that decides when an offset moves.
 */
export function createUpdateConsumer(options: UpdateConsumerOptions): UpdateConsumer {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const applyAttemptTimeoutMs = options.applyAttemptTimeoutMs ?? DEFAULT_APPLY_ATTEMPT_TIMEOUT_MS;
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
  const consumer: Consumer = options.kafka.consumer({
    groupId: options.groupId,
    maxBytesPerPartition: options.maxBytesPerPartition,
    maxWaitTimeInMs: 100,
    sessionTimeout: sessionTimeoutMs,
    // Kafka's advice: heartbeat at most every third of the session timeout.
    heartbeatInterval: Math.min(3_000, Math.floor(sessionTimeoutMs / 3)),
    // Our own loop retries; kafkajs restarting the consumer behind our back would not help.
    retry: { retries: 10, initialRetryTime: 300 },
  });
  const stopping = new AbortController();
  let member = false;
  /**
   * Counts the group's rebalances as this consumer sees them: a batch's commits carry the count
   * of when kafkajs handed the batch over, and are not sent once it has changed
   * (shared-offset-commits.ts). Counted when a rebalance begins and when the join ends, since
   * kafkajs installs the new generation between the two.
   */
  let generation = 0;
  consumer.on(consumer.events.REBALANCING, () => {
    generation++;
  });

  const progress = options.progress;
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    generation++;
    member = true;
    progress?.joined(event.payload.memberAssignment);
    options.logger.info(
      {
        groupId: options.groupId,
        memberId: event.payload.memberId,
        assigned: event.payload.memberAssignment,
      },
      'joined the consumer group',
    );
  });
  consumer.on(consumer.events.STOP, () => {
    member = false;
    progress?.left();
  });
  if (progress) consumer.on(consumer.events.FETCH, () => progress.polled());
  consumer.on(consumer.events.CRASH, (event) => {
    member = false;
    progress?.left();
    const error = event.payload.error;
    options.logger.error({ failure: error, restart: event.payload.restart }, 'consumer crashed');
    if (!event.payload.restart) options.onFatal?.(error);
  });

  // A stop lets the transactions in flight finish, but starts no other: a chunk still waiting
  // for its turn (sharingTransactions) is not applied and its offset stays. The failure is a
  // transient one, so nothing takes the chunk for poison; processChunkUntilDone, seeing the
  // stop, gives up on it.
  const applyUnlessStopping: ApplyBatch = (requests, signal, traceContextOf) =>
    stopping.signal.aborted
      ? Promise.reject(
          new CustomerSyncError(
            SERVICE_FAILURE_CODES.consumerStopping,
            'the consumer is stopping: the chunk was not applied',
            { canRetry: true },
          ),
        )
      : options.applyBatch(requests, signal, traceContextOf);
  const processChunk = createUpdateChunkProcessor({
    decoder: options.decoder,
    // Partitions handled at once may share a transaction when their chunks are small.
    applyBatch:
      options.partitionsConsumedConcurrently > 1
        ? sharingTransactions(applyUnlessStopping, {
            maxRequests: chunkSize,
            maxTransactions: options.transactionsConcurrently,
          })
        : applyUnlessStopping,
    deadLetters: options.deadLetters,
    metrics: options.metrics,
  });

  async function processChunkUntilDone(
    payload: EachBatchPayload,
    messages: KafkaMessage[],
    log: Logger,
    trace: ChunkTrace | undefined,
  ) {
    let resume: (() => void) | undefined;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          // No attempt may wait for ever (a driver that lost a reply, a send that never
          // returns): past the deadline it is abandoned and retried like any transient failure.
          // Abandoning aborts the signal, which cancels the transaction's statement in flight
          // (prepared-sql.ts cancelledBy), so it rolls back and frees its connection and locks
          // at once; the server's statement and lock timeouts usually end it sooner (README
          // Limits). Safe even if the abandoned one still commits (its COMMIT already sent):
          // the retry first takes the advisory locks of the chunk's customers, which wait for
          // that transaction to end, and only then reads processed_events, so what it
          // committed is a duplicate and what it rolled back is applied now (SPEC §4.2); an
          // event id raced past the locks fails recordProcessedEvents and is retried. A
          // transaction wedged on the client side is ended by the server
          // (idle_in_transaction_session_timeout, database.ts), which releases its locks. What
          // an abandoned attempt can repeat is a dead letter, as after a crash (SPEC §4.4).
          return (
            await withDeadline(
              (signal) =>
                processChunk({
                  topic: payload.batch.topic,
                  partition: payload.batch.partition,
                  messages,
                  log,
                  signal,
                  ...(trace ? { trace } : {}),
                }),
              applyAttemptTimeoutMs,
            )
          ).map((outcome) => outcome.kind);
        } catch (error) {
          if (describeFailure(error).code === ATTEMPT_TIMED_OUT)
            log.error(
              { attempt, timeoutMs: applyAttemptTimeoutMs },
              'apply attempt did not settle in time; abandoned it',
            );
          if (!payload.isRunning() || payload.isStale() || stopping.signal.aborted)
            return undefined;
          const delayMs = backoffDelayMs(attempt, options.retry);
          countRetry(options.metrics, 'apply', error);
          log.warn(
            { attempt, delayMs, failure: error },
            'transient failure, partition paused, retrying',
          );
          resume ??= payload.pause();
          await sleepWithHeartbeats(delayMs, payload);
          if (!payload.isRunning() || payload.isStale()) return undefined;
        }
      }
    } finally {
      resume?.();
    }
  }

  async function sleepWithHeartbeats(delayMs: number, payload: EachBatchPayload) {
    const deadline = Date.now() + delayMs;
    while (Date.now() < deadline && !stopping.signal.aborted) {
      await sleep(Math.min(1_000, deadline - Date.now()), stopping.signal);
      await heartbeatQuietly(payload);
    }
  }

  async function heartbeatQuietly(payload: EachBatchPayload) {
    try {
      await payload.heartbeat();
    } catch {
      // A rebalance: isStale() and the next commit tell the loop what it needs to know.
    }
  }

  /**
   * The chunks that finish together commit together, in one request, while the consumer goes
   * on to the next chunk and the next fetch; a partition has one commit on its way at a time.
   */
  const commits = committingInBackground(
    sharingOffsetCommits({ currentGeneration: () => generation }),
  );

  /** failed reads of an unreadable record batch per partition, for its backoff */
  const unreadableAttempts = new Map<string, number>();
  const unreadableResumes = new Set<NodeJS.Timeout>();

  /**
   * SPEC §4.5: a record batch this process cannot decode is not skipped; the partition pauses
   * and fetches it again after a backoff (a fixed deployment reads it), while the other
   * partitions go on. Paused, not slept on: kafkajs fetches a broker's partitions again only
   * once every batch of the last fetch is done. Loud, because it needs an operator.
   */
  function pauseForUnreadableBatch(
    payload: EachBatchPayload,
    unreadable: UnreadableRecordBatch,
    log: Logger,
  ) {
    const key = `${payload.batch.topic}:${payload.batch.partition}`;
    const attempt = unreadableAttempts.get(key) ?? 0;
    unreadableAttempts.set(key, attempt + 1);
    const delayMs = backoffDelayMs(attempt, options.retry);
    options.metrics.unreadableRecordBatches.inc({
      topic: payload.batch.topic,
      codec: unreadable.codec,
    });
    log.error(
      { ...unreadable, attempt, delayMs },
      'record batch cannot be read; partition paused, fetching it again',
    );
    progress?.heldBack(payload.batch.topic, payload.batch.partition);
    const resume = payload.pause();
    const timer = setTimeout(() => {
      unreadableResumes.delete(timer);
      resume();
    }, delayMs);
    unreadableResumes.add(timer);
  }

  async function eachBatch(payload: EachBatchPayload) {
    const { batch } = payload;
    // The generation the batch was fetched in: its chunks' commits stand for it alone.
    const batchGeneration = generation;
    const log = options.logger.child({ topic: batch.topic, partition: batch.partition });
    const unreadableAt = batch.messages.findIndex((message) => unreadableRecordBatchOf(message));
    const readable = unreadableAt === -1 ? batch.messages : batch.messages.slice(0, unreadableAt);
    if (unreadableAt !== 0) unreadableAttempts.delete(`${batch.topic}:${batch.partition}`);
    for (let start = 0; start < readable.length; start += chunkSize) {
      // Stopping: stop() waits for the commits on their way before kafkajs stops fetching.
      if (!payload.isRunning() || payload.isStale() || stopping.signal.aborted) return;
      const messages = readable.slice(start, start + chunkSize);
      const last = messages[messages.length - 1] as KafkaMessage;
      const endOffset = BigInt(last.offset) + 1n;
      const startedAt = performance.now();
      progress?.chunkStarted(
        batch.topic,
        batch.partition,
        Number(messages[0]?.timestamp),
        endOffset,
      );
      const trace = options.tracing?.startChunk({
        topic: batch.topic,
        partition: batch.partition,
        messages,
      });
      const outcomes = await processChunkUntilDone(payload, messages, log, trace);
      trace?.end();
      if (outcomes === undefined) return; // stopping or rebalanced: the offset stays where it is
      const nextOffset = endOffset.toString();
      payload.resolveOffset(last.offset);
      const committed = commits
        .commit(payload, {
          topic: batch.topic,
          partition: batch.partition,
          offset: nextOffset,
          generation: batchGeneration,
        })
        .then(
          () => progress?.committed(batch.topic, batch.partition, endOffset),
          // Applied and recorded: whoever reads this partition next finds these as duplicates.
          (error) =>
            describeFailure(error).code === SERVICE_FAILURE_CODES.kafkaCommitStale
              ? log.info(
                  { offset: nextOffset },
                  'offset not committed: the group rebalanced after the chunk was applied; it will be read again as duplicates',
                )
              : log.warn(
                  { failure: error, offset: nextOffset },
                  'offset commit failed; will be retried by the next commit',
                ),
        );
      // Stopping: the group is left once every batch has returned, so this commit goes first.
      if (stopping.signal.aborted) await committed;
      recordChunkMetrics(messages, outcomes, startedAt);
      if (outcomes.includes('applied')) options.onAnnounced?.();
      await heartbeatQuietly(payload);
    }
    const unreadable = batch.messages[unreadableAt];
    if (unreadable !== undefined && payload.isRunning() && !payload.isStale())
      pauseForUnreadableBatch(
        payload,
        unreadableRecordBatchOf(unreadable) as UnreadableRecordBatch,
        log,
      );
  }

  function recordChunkMetrics(messages: KafkaMessage[], outcomes: Outcome[], startedAt: number) {
    const now = Date.now();
    options.metrics.batchDuration.observe((performance.now() - startedAt) / 1000);
    options.metrics.batchSize.observe(messages.length);
    for (const outcome of outcomes) options.metrics.events.inc({ outcome });
    for (const message of messages)
      options.metrics.processingLatency.observe(
        Math.max(0, now - Number(message.timestamp)) / 1000,
      );
  }

  return {
    async start() {
      await consumer.connect();
      await consumer.subscribe({
        topic: options.topic,
        fromBeginning: options.fromBeginning ?? true,
      });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
        eachBatch,
      });
    },
    async stop() {
      progress?.stopping();
      stopping.abort();
      for (const timer of unreadableResumes) clearTimeout(timer);
      // Commits asked for before the abort; those asked for after it are waited for by their
      // batch, which consumer.stop() waits for before it leaves the group.
      await commits.settled();
      await consumer.stop();
      await consumer.disconnect();
      member = false;
    },
    isGroupMember: () => member,
  };
}
