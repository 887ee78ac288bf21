import type { Admin } from 'kafkajs';
import type { Config } from '../config/config.ts';

/**
 * Creates any missing topic. Off by default in production, where topics belong to the
 * platform team; `npm run dev` and the tests switch it on.
 */
export async function ensureTopics(
  admin: Admin,
  config: Pick<Config, 'topics' | 'kafka'>,
): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const wanted = [
    config.topics.updateRequested,
    config.topics.customerUpdated,
    config.topics.deadLetter,
  ];
  const missing = wanted.filter((topic) => !existing.has(topic));
  if (missing.length === 0) return;
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((topic) => ({
      topic,
      numPartitions: config.kafka.topicPartitions,
      replicationFactor: config.kafka.replicationFactor,
    })),
  });
}
