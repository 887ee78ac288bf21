import { setTimeout as delay } from 'node:timers/promises';
import { type Kafka, Partitioners } from 'kafkajs';
import {
  type LatencySample,
  type LatencySecond,
  type LatencySummary,
  latencyBySecond,
  summariseLatencies,
} from './latency-statistics.ts';
import type { WorkloadMessage } from './workload.ts';

export interface LatencyResult extends LatencySummary {
  offeredRate: number;
  /** what the paced producer really managed to send per second */
  achievedRate: number;
  sent: number;
  warmupSeconds: number;
  timeline: LatencySecond[];
}

/**
 * End-to-end latency at a fixed offered load: a paced producer sends `rate` events a second
 * for `seconds`, and a consumer of customer.updated matches each announcement to its request by
 * causationId. Latency runs from just before the request's send to the moment its announcement
 * is readable. Events sent during the warm-up are left out of the percentiles.
 */
export async function measurePacedLatency(options: {
  kafka: Kafka;
  requestTopic: string;
  updatedTopic: string;
  workload: Iterator<WorkloadMessage>;
  rate: number;
  seconds: number;
  warmupSeconds: number;
  /** called once the reader has joined and before the first event is sent */
  onStart?: () => void;
}): Promise<LatencyResult> {
  const sentAt = new Map<string, number>();
  const samples: LatencySample[] = [];
  let lastArrival = performance.now();
  let origin = 0;

  const reader = options.kafka.consumer({
    groupId: `bench-latency-reader-${Date.now()}`,
    maxWaitTimeInMs: 20,
  });
  const joined = new Promise<void>((resolve) =>
    reader.on(reader.events.GROUP_JOIN, () => resolve()),
  );
  await reader.connect();
  await reader.subscribe({ topic: options.updatedTopic, fromBeginning: true });
  await reader.run({
    eachBatch: async ({ batch }) => {
      const arrivedAt = performance.now();
      lastArrival = arrivedAt;
      for (const message of batch.messages) {
        const causationId = causationIdOf(message.value);
        const sent = causationId === undefined ? undefined : sentAt.get(causationId);
        if (sent === undefined || causationId === undefined) continue;
        sentAt.delete(causationId); // a re-sent announcement is not a second latency
        samples.push({ sentAtMs: sent - origin, latencyMs: arrivedAt - sent });
      }
    },
  });
  await joined;

  const producer = options.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    options.onStart?.();
    origin = performance.now();
    const end = origin + options.seconds * 1000;
    let sent = 0;
    for (let now = origin; now < end; now = performance.now()) {
      const due = Math.floor(((now - origin) / 1000) * options.rate) - sent;
      if (due <= 0) {
        await delay(1);
        continue;
      }
      const messages: WorkloadMessage[] = [];
      for (let index = 0; index < due; index++) {
        const next = options.workload.next();
        if (!next.done) messages.push(next.value);
      }
      const at = performance.now();
      for (const message of messages) {
        // A duplicate's announcement belongs to its first send, which is already timed.
        if (message.eventId !== undefined && message.kind !== 'duplicate')
          sentAt.set(message.eventId, at);
      }
      await producer.send({
        topic: options.requestTopic,
        messages: messages.map((message) => ({ key: message.key, value: message.value })),
      });
      sent += messages.length;
    }
    const sendingSeconds = (performance.now() - origin) / 1000;

    // Everything that will be announced arrives within moments; stop after a quiet second.
    const giveUpAt = performance.now() + 60_000;
    lastArrival = Math.max(lastArrival, performance.now());
    while (performance.now() - lastArrival < 1_500 && performance.now() < giveUpAt) {
      await delay(100);
    }

    const measured = samples.filter((sample) => sample.sentAtMs >= options.warmupSeconds * 1000);
    return {
      ...summariseLatencies(measured.map((sample) => sample.latencyMs)),
      offeredRate: options.rate,
      achievedRate: sent / sendingSeconds,
      sent,
      warmupSeconds: options.warmupSeconds,
      timeline: latencyBySecond(samples),
    };
  } finally {
    await producer.disconnect().catch(() => {});
    await reader.disconnect().catch(() => {});
  }
}

function causationIdOf(value: Buffer | null): string | undefined {
  if (value === null) return undefined;
  try {
    const event = JSON.parse(value.toString('utf8')) as { causationId?: unknown };
    return typeof event.causationId === 'string' ? event.causationId : undefined;
  } catch {
    return undefined;
  }
}
