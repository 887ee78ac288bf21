import type { IHeaders, KafkaMessage, Message } from 'kafkajs';

/**
 * The headers the service adds to a dead letter (SPEC §4.4, dead-letter-publisher.ts) and that
 * a redrive takes off again: what remains are the headers the original message carried.
 */
export const DEAD_LETTER_HEADER_NAMES: readonly string[] = [
  'error.code',
  'error.message',
  'error.path',
  'original.topic',
  'original.partition',
  'original.offset',
  'original.timestamp',
  'failed.at',
  'service.version',
  'replay.run-id',
];

/** The headers a redrive adds: where the message came back from, when, and how often. */
export const REDRIVE_HEADER_NAMES = {
  source: 'redrive.source',
  at: 'redrive.at',
  runId: 'redrive.run-id',
  count: 'redrive.count',
} as const;

/** Where a dead letter is: its own coordinates on the DLQ topic. */
export interface DeadLetterPosition {
  topic: string;
  partition: number;
  offset: string;
}

/** A message of the DLQ topic, with the service's headers read out. */
export interface DeadLetterRecord {
  position: DeadLetterPosition;
  /** when it was appended to the DLQ, milliseconds since the epoch */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  errorCode: string | undefined;
  errorMessage: string | undefined;
  errorPath: string | undefined;
  original:
    | { topic: string; partition: number; offset: string; timestamp: string | undefined }
    | undefined;
  failedAt: string | undefined;
  serviceVersion: string | undefined;
  /** set when a replay, not the service, dead-lettered it */
  replayRunId: string | undefined;
  /** the headers the original message carried (a redrive restores them) */
  originalHeaders: IHeaders;
}

export function headerText(value: IHeaders[string]): string | undefined {
  if (value === undefined) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

export function readDeadLetter(
  topic: string,
  partition: number,
  message: KafkaMessage,
): DeadLetterRecord {
  const headers = message.headers ?? {};
  const text = (name: string) => headerText(headers[name]);
  const originalTopic = text('original.topic');
  const originalPartition = text('original.partition');
  const originalOffset = text('original.offset');
  const originalHeaders: IHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!DEAD_LETTER_HEADER_NAMES.includes(name)) originalHeaders[name] = value;
  }
  return {
    position: { topic, partition, offset: message.offset },
    timestamp: Number(message.timestamp),
    key: message.key,
    value: message.value,
    errorCode: text('error.code'),
    errorMessage: text('error.message'),
    errorPath: text('error.path'),
    original:
      originalTopic !== undefined && originalPartition !== undefined && originalOffset !== undefined
        ? {
            topic: originalTopic,
            partition: Number(originalPartition),
            offset: originalOffset,
            timestamp: text('original.timestamp'),
          }
        : undefined,
    failedAt: text('failed.at'),
    serviceVersion: text('service.version'),
    replayRunId: text('replay.run-id'),
    originalHeaders,
  };
}

export function positionText(position: Pick<DeadLetterPosition, 'partition' | 'offset'>): string {
  return `${position.partition}:${position.offset}`;
}

/**
 * The message a redrive sends back to the input topic: the original key, value and headers,
 * untouched, plus headers that record the redrive (a later dead letter of it keeps them, so
 * `redrive.count` shows a message going round).
 */
export function redriveMessage(
  letter: DeadLetterRecord,
  redrive: { at: Date; runId: string },
): Message {
  const previous = Number(headerText(letter.originalHeaders[REDRIVE_HEADER_NAMES.count]) ?? '0');
  return {
    key: letter.key,
    value: letter.value,
    headers: {
      ...letter.originalHeaders,
      [REDRIVE_HEADER_NAMES.source]: `${letter.position.topic}:${positionText(letter.position)}`,
      [REDRIVE_HEADER_NAMES.at]: redrive.at.toISOString(),
      [REDRIVE_HEADER_NAMES.runId]: redrive.runId,
      [REDRIVE_HEADER_NAMES.count]: String(Number.isFinite(previous) ? previous + 1 : 1),
    },
  };
}

/** The letter's original message as the decoder sees it, to predict what a redrive would do. */
export function originalMessageOf(letter: DeadLetterRecord): KafkaMessage {
  return {
    key: letter.key,
    value: letter.value,
    headers: letter.originalHeaders,
    timestamp: letter.original?.timestamp ?? String(letter.timestamp),
    attributes: 0,
    offset: letter.original?.offset ?? letter.position.offset,
  };
}
