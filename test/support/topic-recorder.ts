import type { IHeaders } from 'kafkajs';
import { registerCleanup } from './cleanup.ts';
import { testKafka, uniqueName } from './test-environment.ts';
import { waitFor } from './wait-for.ts';

export interface RecordedMessage {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Reads a topic from the beginning into memory for assertions, until the test file ends. */
export async function recordTopic(topic: string) {
  const messages: RecordedMessage[] = [];
  const consumer = testKafka().consumer({ groupId: uniqueName('recorder'), maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      messages.push({
        partition,
        offset: message.offset,
        key: message.key?.toString('utf8') ?? null,
        value: message.value,
        headers: headersAsText(message.headers),
      });
    },
  });
  registerCleanup(() => consumer.disconnect());
  return {
    messages,
    json: <T = unknown>() =>
      messages.map((message) => JSON.parse(message.value?.toString('utf8') ?? 'null') as T),
    waitForCount: (count: number, timeoutMs = 60_000) =>
      waitFor(
        `${count} messages on ${topic} (have ${messages.length})`,
        () => messages.length >= count && messages,
        {
          timeoutMs,
        },
      ),
  };
}

function headersAsText(headers: IHeaders | undefined): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined)
      text[name] = Array.isArray(value) ? value.map(String).join(',') : String(value);
  }
  return text;
}
