import type { Kafka } from 'kafkajs';
import { type PartitionRange, type RangeReadResult, readTopicRange } from '../kafka/topic-range.ts';
import { type DeadLetterRecord, readDeadLetter } from './dead-letter-records.ts';

/**
 * Reads fixed ranges of the DLQ topic (`dlq`, `explain`) and hands over each batch's letters
 * with the service's headers read out. `onLetters` returns how many it finished, as
 * readTopicRange's `onBatch` does.
 */
export function readDeadLetters(options: {
  kafka: Kafka;
  topic: string;
  groupId: string;
  ranges: PartitionRange[];
  partitionsConsumedConcurrently?: number;
  signal?: AbortSignal | undefined;
  onLetters(letters: DeadLetterRecord[]): Promise<number | undefined>;
}): Promise<RangeReadResult> {
  return readTopicRange({
    kafka: options.kafka,
    topic: options.topic,
    groupId: options.groupId,
    ranges: options.ranges,
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
    ...(options.signal ? { signal: options.signal } : {}),
    onBatch: ({ partition, messages }) =>
      options.onLetters(
        messages.map((message) => readDeadLetter(options.topic, partition, message)),
      ),
  });
}
