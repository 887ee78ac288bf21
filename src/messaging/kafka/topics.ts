import { setTimeout as delay } from 'node:timers/promises';
import type { Admin, ITopicConfig } from 'kafkajs';
import type { Config } from '../../config/config.ts';

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
  await createTopicsAndAwaitLeaders(
    admin,
    missing.map((topic) => ({
      topic,
      numPartitions: config.kafka.topicPartitions,
      replicationFactor: config.kafka.replicationFactor,
    })),
  );
}

/** How long a new topic may take to have a leader for every partition before creation fails. */
const LEADERS_TIMEOUT_MS = 60_000;

/**
 * Creates the topics (an existing one is left as it is, so replicas may race) and returns once
 * the cluster's metadata names a leader for every partition of every one. Not kafkajs'
 * `waitForLeaders`: right after a creation the broker that answers may not know the topic yet,
 * and kafkajs then fails with UNKNOWN_TOPIC_OR_PARTITION instead of asking again. Used by the
 * service, the dev stack, the tests and the bench alike, so none of them starts producing to a
 * topic that is not there yet.
 */
export async function createTopicsAndAwaitLeaders(
  admin: Admin,
  topics: ITopicConfig[],
  { timeoutMs = LEADERS_TIMEOUT_MS }: { timeoutMs?: number } = {},
): Promise<void> {
  await admin.createTopics({ waitForLeaders: false, topics });
  const deadline = Date.now() + timeoutMs;
  let lastSeen = 'no metadata yet';
  for (;;) {
    try {
      const { topics: described } = await admin.fetchTopicMetadata({
        topics: topics.map(({ topic }) => topic),
      });
      const waiting = topics.flatMap(({ topic, numPartitions }) => {
        const partitions = described.find((entry) => entry.name === topic)?.partitions ?? [];
        const led = partitions.filter(({ leader }) => leader >= 0).length;
        const expected = numPartitions ?? partitions.length;
        return led >= expected && expected > 0 ? [] : [`${topic}: ${led}/${expected} led`];
      });
      if (waiting.length === 0) return;
      lastSeen = waiting.join(', ');
    } catch (error) {
      // UNKNOWN_TOPIC_OR_PARTITION and LEADER_NOT_AVAILABLE until the metadata has caught up
      lastSeen = String(error);
    }
    if (Date.now() > deadline)
      throw new Error(`topics created but not led after ${timeoutMs} ms (last seen: ${lastSeen})`);
    await delay(100);
  }
}
