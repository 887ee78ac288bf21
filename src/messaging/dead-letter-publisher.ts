import type { IHeaders, KafkaMessage, Producer } from 'kafkajs';
import type { ValidationFailure } from '../contracts/error-codes.ts';
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

export function createDeadLetterPublisher(
  producer: Producer,
  deadLetterTopic: string,
  context: DeadLetterHeaderContext,
): DeadLetterPublisher {
  return {
    async publish(letters) {
      if (letters.length === 0) return;
      await producer.send({
        topic: deadLetterTopic,
        messages: letters.map((letter) => ({
          key: letter.message.key,
          value: letter.message.value,
          headers: deadLetterHeaders(letter, context),
        })),
      });
    },
  };
}
