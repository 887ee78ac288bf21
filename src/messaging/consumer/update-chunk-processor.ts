import type { KafkaMessage } from 'kafkajs';
import type {
  AppliedBatch,
  TraceContext,
  UpdateOutcome,
} from '../../application/apply-update-batch.ts';
import type { MessageOutcome } from '../../application/message-outcome.ts';
import type { CustomerUpdateRequest } from '../../contracts/customer-update-requested.ts';
import { ERROR_CODES, type ValidationFailure } from '../../contracts/error-codes.ts';
import { canRetry, describeFailure } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { ChunkTrace } from '../../observability/tracing.ts';
import type { DeadLetter, DeadLetterPublisher } from '../dead-letters/dead-letter-publisher.ts';
import type { DecodedMessage, UpdateRequestDecoder } from './decode-update-request.ts';

export interface UpdateChunkProcessorOptions {
  decoder: UpdateRequestDecoder;
  /** applies in one transaction; once `signal` has aborted, it must not commit */
  applyBatch: ApplyBatch;
  deadLetters: DeadLetterPublisher;
  metrics: Pick<Metrics, 'staleFields' | 'deadLetters'>;
  /**
   * Which messages to process; the others are left alone and reported as `skipped`. The
   * service processes everything; `replay --tenant` selects one tenant's messages.
   */
  select?: (decoded: DecodedMessage, message: KafkaMessage) => boolean;
}

/**
 * Applies requests in one transaction; once `signal` has aborted, it must not commit. With
 * tracing on, `traceContextOf` names the context each request's announcement continues.
 */
export type ApplyBatch = (
  requests: CustomerUpdateRequest[],
  signal?: AbortSignal,
  traceContextOf?: (eventId: string) => TraceContext | undefined,
) => Promise<AppliedBatch>;

export interface UpdateChunk {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  log: Logger;
  /** aborts when the caller abandoned this attempt: it then commits and publishes nothing */
  signal?: AbortSignal;
  /** the chunk's spans, when tracing is on */
  trace?: ChunkTrace;
}

/** The chunk's trace, and the context each request's announcement continues. */
interface TracedRequests {
  chunk: ChunkTrace;
  contextOf: (eventId: string) => TraceContext | undefined;
}

function tracedRequests(
  chunk: UpdateChunk,
  requests: readonly CustomerUpdateRequest[],
  requestIndex: readonly number[],
): TracedRequests | undefined {
  const trace = chunk.trace;
  if (trace === undefined) return undefined;
  const indexOf = new Map<string, number>(
    requests.map((request, position) => [request.eventId, requestIndex[position] as number]),
  );
  return {
    chunk: trace,
    contextOf: (eventId) => {
      const index = indexOf.get(eventId);
      return index === undefined ? undefined : trace.contextOf(index);
    },
  };
}

/**
 * One chunk of one partition through the apply path (SPEC §4.2–4.4): decode, apply in one
 * transaction, dead-letter what cannot be applied. Throws only what is worth retrying (SPEC
 * §4.5); the caller decides how to retry and when an offset may move. Shared by the service's
 * consumer loop and `replay`, so that a replay does exactly what the service does.
 */
export function createUpdateChunkProcessor(options: UpdateChunkProcessorOptions) {
  async function applyIsolatingPoison(
    requests: CustomerUpdateRequest[],
    signal: AbortSignal | undefined,
    trace: TracedRequests | undefined,
  ): Promise<UpdateOutcome[]> {
    const apply = (batch: CustomerUpdateRequest[]) =>
      trace
        ? trace.chunk.transaction(() => options.applyBatch(batch, signal, trace.contextOf))
        : options.applyBatch(batch, signal);
    try {
      return (await apply(requests)).outcomes;
    } catch (error) {
      if (canRetry(error)) throw error;
      // The database rejected the batch for its content: find the request it cannot take,
      // one at a time, so the rest of the batch still applies (SPEC §4.4).
      const outcomes: UpdateOutcome[] = [];
      for (const request of requests) {
        try {
          outcomes.push(...(await apply([request])).outcomes);
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

  return async function processChunk(chunk: UpdateChunk): Promise<MessageOutcome[]> {
    const { messages } = chunk;
    const decoded = await Promise.all(messages.map((message) => options.decoder.decode(message)));
    const letters: DeadLetter[] = [];
    const requests: CustomerUpdateRequest[] = [];
    const requestIndex: number[] = [];
    const outcomes: MessageOutcome[] = new Array(messages.length);
    const deadLetter = (index: number, failure: ValidationFailure) => {
      const message = messages[index] as KafkaMessage;
      letters.push({ message, topic: chunk.topic, partition: chunk.partition, failure });
      outcomes[index] = { kind: 'dead-lettered', failure };
    };
    decoded.forEach((result, index) => {
      if (options.select && !options.select(result, messages[index] as KafkaMessage)) {
        outcomes[index] = { kind: 'skipped' };
      } else if (result.ok) {
        requests.push(result.request);
        requestIndex.push(index);
      } else {
        deadLetter(index, result.failure);
      }
    });

    const applied =
      requests.length > 0
        ? await applyIsolatingPoison(
            requests,
            chunk.signal,
            tracedRequests(chunk, requests, requestIndex),
          )
        : [];
    applied.forEach((outcome, position) => {
      const index = requestIndex[position] as number;
      if (outcome.kind === 'rejected') {
        deadLetter(index, outcome.failure);
        return;
      }
      outcomes[index] = outcome;
      if (outcome.kind === 'stale' || outcome.kind === 'applied') {
        for (const field of outcome.staleFields) options.metrics.staleFields.inc({ field });
      }
    });

    // After the transaction, before the offset: a crash in between re-sends the dead letter,
    // it never loses it (SPEC §4.1, §4.4). An abandoned attempt leaves that to its retry.
    chunk.signal?.throwIfAborted();
    await options.deadLetters.publish(letters);
    for (const letter of letters) {
      options.metrics.deadLetters.inc({ code: letter.failure.code });
      chunk.log.warn(
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
  };
}
