import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { ParkedRecordStore } from '../../application/parked-records.ts';
import type { ValidationFailure } from '../../contracts/error-codes.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { RecordSender } from '../kafka/record-sender.ts';
import { parkedRecordsOf, reportParked } from '../parking.ts';
import { shelterProducerHeaders } from './dead-letter-records.ts';

export interface DeadLetter {
  message: KafkaMessage;
  topic: string;
  partition: number;
  failure: ValidationFailure;
}

export interface DeadLetterHeaderContext {
  serviceVersion: string;
  now: () => Date;
  /** added to every letter, e.g. `replay.run-id` when a replay dead-letters */
  extraHeaders?: Record<string, string>;
}

/**
 * SPEC §4.4: the original key and value bytes, untouched, plus headers that say why. The
 * original headers are kept too, so a redrive can restore the message as it was; those under
 * the service's own names are sheltered first, so the reasons are always the service's.
 */
export function deadLetterHeaders(letter: DeadLetter, context: DeadLetterHeaderContext): IHeaders {
  const failure = letter.failure;
  return {
    ...shelterProducerHeaders(letter.message.headers ?? {}),
    'error.code': failure.code,
    'error.message': failure.message,
    ...(failure.path ? { 'error.path': failure.path } : {}),
    'original.topic': letter.topic,
    'original.partition': String(letter.partition),
    'original.offset': letter.message.offset,
    'original.timestamp': letter.message.timestamp,
    'failed.at': context.now().toISOString(),
    'service.version': context.serviceVersion,
    ...context.extraHeaders,
  };
}

export interface DeadLetterPublisher {
  publish(letters: DeadLetter[]): Promise<void>;
}

export interface DeadLetterPublisherOptions {
  sender: RecordSender;
  deadLetterTopic: string;
  context: DeadLetterHeaderContext;
  /** where letters the broker refuses for good go (SPEC §4.4: they never hold up the partition) */
  parked: Pick<ParkedRecordStore, 'park'>;
  metrics: Pick<Metrics, 'parkedRecords'>;
  logger: Logger;
}

/**
 * Publishes a chunk's letters in requests that fit the broker (record-sender.ts). A letter the
 * broker refuses for good (larger than the DLQ topic takes, …) is parked in Postgres before
 * publish returns, so the offset may move past it and nothing is lost.
 */
export function createDeadLetterPublisher(
  options: DeadLetterPublisherOptions,
): DeadLetterPublisher {
  const log = options.logger.child({ component: 'dead-letter-publisher' });
  return {
    async publish(letters) {
      if (letters.length === 0) return;
      const messages = letters.map((letter) => ({
        key: letter.message.key,
        value: letter.message.value,
        headers: deadLetterHeaders(letter, options.context),
      }));
      const refused = await options.sender.send(options.deadLetterTopic, messages);
      if (refused.length === 0) return;
      const records = parkedRecordsOf('dead_letter', options.deadLetterTopic, messages, refused);
      await options.parked.park(records);
      reportParked(records, options.metrics, log);
    },
  };
}
