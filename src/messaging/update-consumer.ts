import type { Batch, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { AppliedBatch, UpdateOutcome } from '../application/apply-update-batch.ts';
import { type BackoffSettings, backoffDelayMs, sleep } from '../application/retry-policy.ts';
import type { CustomerUpdateRequest } from '../contracts/customer-update-requested.ts';
import { ERROR_CODES } from '../contracts/error-codes.ts';
import { canRetry, describeFailure } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { DeadLetter, DeadLetterPublisher } from './dead-letter-publisher.ts';
import type { UpdateRequestDecoder } from './decode-update-request.ts';

export interface UpdateConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topic: string;
  partitionsConsumedConcurrently: number;
  maxBytesPerPartition: number;
  /** messages applied per database transaction; larger batches are split */
  chunkSize?: number;
  /** read the topic from the start when the group has no committed offset */
  fromBeginning?: boolean;
  decoder: UpdateRequestDecoder;
  applyBatch: (requests: CustomerUpdateRequest[]) => Promise<AppliedBatch>;
  deadLetters: DeadLetterPublisher;
  retry: BackoffSettings;
  metrics: Metrics;
  logger: Logger;
  /** called after each committed chunk that wrote to the outbox, to wake the relay */
  onAnnounced?: () => void;
  /** kafkajs gave up on the consumer: the process should exit and be restarted */
  onFatal?: (error: unknown) => void;
}

export interface UpdateConsumer {
  start(): Promise<void>;
  /** stops fetching, lets the in-flight batch finish and commit, then leaves the group */
  stop(): Promise<void>;
  /** joined the consumer group and has not stopped or crashed since */
  isGroupMember(): boolean;
}

type Outcome = UpdateOutcome['kind'] | 'dead-lettered';

/**
 * The consumer loop (SPEC §4.1, §4.4, §4.5). Per partition batch, per chunk: decode, apply in
 * one transaction, dead-letter what cannot be applied, and only then commit the offset. A
 * transient failure pauses the partition and retries the same chunk with backoff, forever if
 * need be; nothing here skips a message. This is the code that decides when an offset moves.
 */
export function createUpdateConsumer(options: UpdateConsumerOptions): UpdateConsumer {
  const chunkSize = options.chunkSize ?? 500;
  const consumer: Consumer = options.kafka.consumer({
    groupId: options.groupId,
    maxBytesPerPartition: options.maxBytesPerPartition,
    maxWaitTimeInMs: 100,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
    // Our own loop retries; kafkajs restarting the consumer behind our back would not help.
    retry: { retries: 10, initialRetryTime: 300 },
  });
  const stopping = new AbortController();
  let member = false;

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    member = true;
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
  });
  consumer.on(consumer.events.CRASH, (event) => {
    member = false;
    const error = event.payload.error;
    options.logger.error(
      { failure: describeFailure(error), restart: event.payload.restart },
      'consumer crashed',
    );
    if (!event.payload.restart) options.onFatal?.(error);
  });

  async function applyIsolatingPoison(requests: CustomerUpdateRequest[]): Promise<UpdateOutcome[]> {
    try {
      return (await options.applyBatch(requests)).outcomes;
    } catch (error) {
      if (canRetry(error)) throw error;
      // The database rejected the batch for its content: find the request it cannot take,
      // one at a time, so the rest of the batch still applies (SPEC §4.4).
      const outcomes: UpdateOutcome[] = [];
      for (const request of requests) {
        try {
          outcomes.push(...(await options.applyBatch([request])).outcomes);
        } catch (single) {
          if (canRetry(single)) throw single;
          const sqlState = describeFailure(single).code;
          outcomes.push({
            kind: 'rejected',
            failure: {
              code: ERROR_CODES.applyFailed,
              message: `the database rejected the event${sqlState ? ` (SQLSTATE ${sqlState})` : ''}`,
            },
          });
        }
      }
      return outcomes;
    }
  }

  async function processChunk(
    batch: Batch,
    messages: KafkaMessage[],
    log: Logger,
  ): Promise<Outcome[]> {
    const decoded = await Promise.all(messages.map((message) => options.decoder.decode(message)));
    const letters: DeadLetter[] = [];
    const requests: CustomerUpdateRequest[] = [];
    const requestIndex: number[] = [];
    const outcomes: Outcome[] = new Array(messages.length);
    decoded.forEach((result, index) => {
      const message = messages[index] as KafkaMessage;
      if (result.ok) {
        requests.push(result.request);
        requestIndex.push(index);
      } else {
        letters.push({
          message,
          topic: batch.topic,
          partition: batch.partition,
          failure: result.failure,
        });
        outcomes[index] = 'dead-lettered';
      }
    });

    const applied = requests.length > 0 ? await applyIsolatingPoison(requests) : [];
    applied.forEach((outcome, position) => {
      const index = requestIndex[position] as number;
      const message = messages[index] as KafkaMessage;
      if (outcome.kind === 'rejected') {
        letters.push({
          message,
          topic: batch.topic,
          partition: batch.partition,
          failure: outcome.failure,
        });
        outcomes[index] = 'dead-lettered';
        return;
      }
      outcomes[index] = outcome.kind;
      if (outcome.kind === 'stale' || outcome.kind === 'applied') {
        for (const field of outcome.staleFields) options.metrics.staleFields.inc({ field });
      }
    });

    // After the transaction, before the offset: a crash in between re-sends the dead letter,
    // it never loses it (SPEC §4.1, §4.4).
    await options.deadLetters.publish(letters);
    for (const letter of letters) {
      options.metrics.deadLetters.inc({ code: letter.failure.code });
      log.warn(
        {
          offset: letter.message.offset,
          code: letter.failure.code,
          path: letter.failure.path,
          reason: letter.failure.message,
        },
        'dead-lettered',
      );
    }
    return outcomes;
  }

  async function processChunkUntilDone(
    payload: EachBatchPayload,
    messages: KafkaMessage[],
    log: Logger,
  ) {
    let resume: (() => void) | undefined;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          return await processChunk(payload.batch, messages, log);
        } catch (error) {
          if (!payload.isRunning() || payload.isStale() || stopping.signal.aborted)
            return undefined;
          const delayMs = backoffDelayMs(attempt, options.retry);
          options.metrics.retries.inc({ stage: 'apply' });
          log.warn(
            { attempt, delayMs, failure: describeFailure(error) },
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

  async function eachBatch(payload: EachBatchPayload) {
    const { batch } = payload;
    const log = options.logger.child({ topic: batch.topic, partition: batch.partition });
    for (let start = 0; start < batch.messages.length; start += chunkSize) {
      if (!payload.isRunning() || payload.isStale()) return;
      const messages = batch.messages.slice(start, start + chunkSize);
      const startedAt = performance.now();
      const outcomes = await processChunkUntilDone(payload, messages, log);
      if (outcomes === undefined) return; // stopping or rebalanced: the offset stays where it is
      const last = messages[messages.length - 1] as KafkaMessage;
      const nextOffset = (BigInt(last.offset) + 1n).toString();
      payload.resolveOffset(last.offset);
      try {
        await payload.commitOffsetsIfNecessary({
          topics: [
            {
              topic: batch.topic,
              partitions: [{ partition: batch.partition, offset: nextOffset }],
            },
          ],
        });
      } catch (error) {
        // Applied and recorded: whoever reads this partition next finds these as duplicates.
        log.warn(
          { failure: describeFailure(error), offset: nextOffset },
          'offset commit failed; will be retried by the next commit',
        );
      }
      recordChunkMetrics(batch, messages, outcomes, startedAt, nextOffset);
      if (outcomes.includes('applied')) options.onAnnounced?.();
      await heartbeatQuietly(payload);
    }
  }

  function recordChunkMetrics(
    batch: Batch,
    messages: KafkaMessage[],
    outcomes: Outcome[],
    startedAt: number,
    nextOffset: string,
  ) {
    const now = Date.now();
    options.metrics.batchDuration.observe((performance.now() - startedAt) / 1000);
    options.metrics.batchSize.observe(messages.length);
    for (const outcome of outcomes) options.metrics.events.inc({ outcome });
    for (const message of messages)
      options.metrics.processingLatency.observe(
        Math.max(0, now - Number(message.timestamp)) / 1000,
      );
    const lag = Number(BigInt(batch.highWatermark) - BigInt(nextOffset));
    options.metrics.consumerLag.set(
      { topic: batch.topic, partition: String(batch.partition) },
      Math.max(0, lag),
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
      stopping.abort();
      await consumer.stop();
      await consumer.disconnect();
      member = false;
    },
    isGroupMember: () => member,
  };
}
