import { setTimeout as delay } from 'node:timers/promises';
import type { Admin } from 'kafkajs';

/** Polls the topic's end offsets until they add up to `count`; returns when they did. */
export async function waitForTopicCount(
  admin: Admin,
  topic: string,
  count: number,
  timeoutMs: number,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const offsets = await admin.fetchTopicOffsets(topic);
    const total = offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
    if (total >= count) return performance.now();
    if (performance.now() > deadline)
      throw new Error(`only ${total} of ${count} customer.updated events reached ${topic}`);
    // Every poll is a request the broker serves on the cores being measured: 50 ms costs
    // little CPU and at most 50 ms, well under 1% of a run.
    await delay(50);
  }
}
