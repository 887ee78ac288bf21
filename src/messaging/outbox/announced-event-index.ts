import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import {
  type AnnouncedEventIndex,
  announcementKey,
} from '../../application/skip-already-announced.ts';
import { headerText } from '../dead-letters/dead-letter-records.ts';
import { readTopicRange, wholeTopic } from '../kafka/topic-range.ts';

/**
 * The announcements on customer.updated (message key and eventId, read from the `event.id`
 * header the relay writes on every message, outbox-relay.ts), so that no value is decoded,
 * whatever its encoding. Only what is
 * still retained can be known: changes announced before the topic's retention are announced
 * again, with the same eventId (SPEC §4.6 allows a re-send; consumers recognise it).
 */
export function createAnnouncedEventIndex(options: {
  kafka: Kafka;
  admin: Admin;
  topic: string;
  groupId: string;
  signal?: AbortSignal;
  onLoading?: (read: number, total: number) => void;
}): AnnouncedEventIndex {
  let eventIds: Set<string> | undefined;
  let loading: Promise<void> | undefined;
  async function read(): Promise<void> {
    const ranges = await wholeTopic(options.admin, options.topic);
    const total = Number(ranges.reduce((sum, range) => sum + (range.end - range.start), 0n));
    const found = new Set<string>();
    let count = 0;
    const result = await readTopicRange({
      kafka: options.kafka,
      topic: options.topic,
      groupId: options.groupId,
      ranges,
      partitionsConsumedConcurrently: ranges.length,
      ...(options.signal ? { signal: options.signal } : {}),
      async onBatch({ messages }) {
        for (const message of messages) {
          const eventId = announcedEventId(message);
          const messageKey = message.key?.toString('utf8');
          if (eventId !== undefined && messageKey !== undefined)
            found.add(announcementKey(messageKey, eventId));
        }
        count += messages.length;
        options.onLoading?.(count, total);
        return undefined;
      },
    });
    // Interrupted: a partial index would let a change be announced twice; it stays unloaded.
    if (result.completed) eventIds = found;
    else loading = undefined;
  }
  return {
    loaded: () => eventIds,
    // Chunks of several partitions may ask at once; they share one read (one group member).
    load() {
      loading ??= read().catch((error: unknown) => {
        loading = undefined;
        throw error;
      });
      return loading;
    },
  };
}

function announcedEventId(message: KafkaMessage): string | undefined {
  const header = headerText(message.headers?.['event.id']);
  if (header !== undefined) return header.toLowerCase();
  try {
    const { eventId } = JSON.parse(message.value?.toString('utf8') ?? 'null') as {
      eventId?: unknown;
    };
    return typeof eventId === 'string' ? eventId.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}
