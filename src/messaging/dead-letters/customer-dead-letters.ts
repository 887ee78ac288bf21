import type { Admin, Kafka } from 'kafkajs';
import type { CustomerDeadLetter, DeadLetterArchive } from '../../application/explain-customer.ts';
import { kafkaKeyOf } from '../../domain/customer-key.ts';
import { resolveTopicRange } from '../kafka/topic-range.ts';
import { readDeadLetters } from './dead-letter-reader.ts';
import { eventIdInPayload } from './event-id-in-payload.ts';

/**
 * The DLQ topic read for one customer's key (`explain`). The whole topic is read, not only the
 * key's partition: a letter keeps its original key (SPEC §2), but the DLQ may have had other
 * partition counts in its life, and it is small next to the topics it serves.
 */
export function createDeadLetterArchive(options: {
  kafka: Kafka;
  /** connects on first use, so that an unreachable Kafka is reported, not thrown at start */
  admin: () => Promise<Admin>;
  topic: string;
  groupId: string;
}): DeadLetterArchive {
  return {
    topic: options.topic,
    async lettersFor(key, since) {
      const wanted = Buffer.from(kafkaKeyOf(key));
      const ranges = await resolveTopicRange(await options.admin(), options.topic, {
        from: since === undefined ? { kind: 'earliest' } : { kind: 'time', at: since },
      });
      const letters: Array<CustomerDeadLetter & { timestamp: number }> = [];
      await readDeadLetters({
        kafka: options.kafka,
        topic: options.topic,
        groupId: options.groupId,
        ranges,
        partitionsConsumedConcurrently: ranges.length,
        async onLetters(batch) {
          for (const letter of batch) {
            if (letter.key === null || !letter.key.equals(wanted)) continue;
            letters.push({
              position: letter.position,
              timestamp: letter.timestamp,
              failedAt: letter.failedAt,
              errorCode: letter.errorCode,
              errorMessage: letter.errorMessage,
              errorPath: letter.errorPath,
              original: letter.original
                ? `${letter.original.topic}:${letter.original.partition}:${letter.original.offset}`
                : undefined,
              replayRunId: letter.replayRunId,
              eventId: eventIdInPayload(letter.value),
            });
          }
          return undefined;
        },
      });
      // In the order they were dead-lettered, whatever partition holds them.
      letters.sort(
        (a, b) =>
          a.timestamp - b.timestamp ||
          a.position.partition - b.position.partition ||
          Number(BigInt(a.position.offset) - BigInt(b.position.offset)),
      );
      return letters.map(({ timestamp: _timestamp, ...letter }) => letter);
    },
  };
}
