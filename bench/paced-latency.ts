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

/**
 * How far along the way each event had come, at the median and the 99th percentile, in ms
 * since its send: `applied` is the announcement's occurredAt (the apply transaction took its
 * rows and merged), `published` the announcement's Kafka timestamp (the relay's send), and
 * `readable` the end: the reader has it. The gaps between them say where an event waits.
 */
export interface LatencyStages {
  applied: { p50: number; p99: number };
  published: { p50: number; p99: number };
  readable: { p50: number; p99: number };
}

export interface LatencyResult extends LatencySummary {
  stages: LatencyStages;
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
  const stageSamples: Array<{ sentAtMs: number; applied: number; published: number }> = [];
  // Wall-clock milliseconds with the monotonic clock's precision: occurredAt and Kafka
  // timestamps are wall-clock times of processes on this machine.
  const wallClock = () => performance.timeOrigin + performance.now();
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
    // The reader only reads: committing after every partition's batch (kafkajs' default) put
    // an offset-commit round trip per partition between a fetch and the next, and into the
    // latency of whatever arrived meanwhile.
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const arrivedAt = wallClock();
      lastArrival = performance.now();
      for (const message of batch.messages) {
        const announcement = announcementOf(message.value);
        const sent = announcement === undefined ? undefined : sentAt.get(announcement.causationId);
        if (sent === undefined || announcement === undefined) continue;
        sentAt.delete(announcement.causationId); // a re-sent announcement is not a second latency
        samples.push({ sentAtMs: sent - origin, latencyMs: arrivedAt - sent });
        stageSamples.push({
          sentAtMs: sent - origin,
          applied: Date.parse(announcement.occurredAt) - sent,
          published: Number(message.timestamp) - sent,
        });
      }
    },
  });
  await joined;

  const producer = options.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    options.onStart?.();
    origin = wallClock();
    const end = origin + options.seconds * 1000;
    let sent = 0;
    for (let now = origin; now < end; now = wallClock()) {
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
      const at = wallClock();
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
    const sendingSeconds = (wallClock() - origin) / 1000;

    // Everything that will be announced arrives within moments; stop after a quiet second.
    const giveUpAt = performance.now() + 60_000;
    lastArrival = Math.max(lastArrival, performance.now());
    while (performance.now() - lastArrival < 1_500 && performance.now() < giveUpAt) {
      await delay(100);
    }

    const afterWarmup = (sample: { sentAtMs: number }) =>
      sample.sentAtMs >= options.warmupSeconds * 1000;
    const measured = samples.filter(afterWarmup);
    const summary = summariseLatencies(measured.map((sample) => sample.latencyMs));
    const stages = stageSamples.filter(afterWarmup);
    const stage = (values: number[]) => {
      const { p50, p99 } = summariseLatencies(values);
      return { p50, p99 };
    };
    return {
      ...summary,
      stages: {
        applied: stage(stages.map((sample) => sample.applied)),
        published: stage(stages.map((sample) => sample.published)),
        readable: { p50: summary.p50, p99: summary.p99 },
      },
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

function announcementOf(
  value: Buffer | null,
): { causationId: string; occurredAt: string } | undefined {
  if (value === null) return undefined;
  try {
    const event = JSON.parse(value.toString('utf8')) as {
      causationId?: unknown;
      occurredAt?: unknown;
    };
    return typeof event.causationId === 'string' && typeof event.occurredAt === 'string'
      ? { causationId: event.causationId, occurredAt: event.occurredAt }
      : undefined;
  } catch {
    return undefined;
  }
}
