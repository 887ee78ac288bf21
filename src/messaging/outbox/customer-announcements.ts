import type { Admin, Kafka } from 'kafkajs';
import type { Announcement, AnnouncementArchive } from '../../application/explain-customer.ts';
import { kafkaKeyOf } from '../../domain/customer-key.ts';
import { headerText } from '../dead-letters/dead-letter-records.ts';
import { partitionOfKey } from '../kafka/murmur2-partitioner.ts';
import { messagesIn, readTopicRange, resolveTopicRange } from '../kafka/topic-range.ts';
import type { CustomerUpdatedDecoder } from './customer-updated-decoder.ts';

/**
 * customer.updated read for one customer (`explain --history`): only the partition the key
 * hashes to, as the relay's partitioner placed it (SPEC §2: keyed by customer, so one customer's
 * announcements share a partition, in order). What the topic still retains is all it can show.
 * Only the event's envelope is kept, never the snapshot's values.
 */
export function createAnnouncementArchive(options: {
  kafka: Kafka;
  /** connects on first use, so that an unreachable Kafka is reported, not thrown at start */
  admin: () => Promise<Admin>;
  topic: string;
  groupId: string;
  decoder: CustomerUpdatedDecoder;
  onProgress?: (read: number, total: number) => void;
}): AnnouncementArchive {
  return {
    topic: options.topic,
    async announcementsFor(key, since) {
      const admin = await options.admin();
      const wanted = Buffer.from(kafkaKeyOf(key));
      const partitions = (await admin.fetchTopicOffsets(options.topic)).length;
      const partition = partitionOfKey(wanted, partitions);
      const ranges = await resolveTopicRange(admin, options.topic, {
        from: since === undefined ? { kind: 'earliest' } : { kind: 'time', at: since },
        partitions: [partition],
      });
      const total = Number(messagesIn(ranges));
      const announcements: Announcement[] = [];
      let read = 0;
      await readTopicRange({
        kafka: options.kafka,
        topic: options.topic,
        groupId: options.groupId,
        ranges,
        async onBatch({ messages }) {
          for (const message of messages) {
            if (message.key === null || !message.key.equals(wanted)) continue;
            const event = await options.decoder.decode(message.value);
            announcements.push({
              partition,
              offset: message.offset,
              publishedAt: new Date(Number(message.timestamp)).toISOString(),
              eventId: event?.eventId ?? headerText(message.headers?.['event.id']),
              event: event && {
                reason: event.reason,
                causationId: event.causationId,
                changedFields: event.changedFields,
                occurredAt: event.occurredAt,
                version: event.customer.version,
              },
            });
          }
          read += messages.length;
          options.onProgress?.(read, total);
          return undefined;
        },
      });
      return { partition, announcements };
    },
  };
}
