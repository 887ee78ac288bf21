import type { IHeaders, KafkaMessage, Message } from 'kafkajs';

/** The headers a redrive adds: where the message came back from, when, and how often. */
export const REDRIVE_HEADER_NAMES = {
  source: 'redrive.source',
  at: 'redrive.at',
  runId: 'redrive.run-id',
  count: 'redrive.count',
} as const;

/**
 * The names the service writes: on a dead letter `error.*`, `original.*`, `failed.at`,
 * `service.version` and, from a replay, `replay.*` (SPEC §4.4, dead-letter-publisher.ts); on a
 * redriven message `redrive.*`. Only the service may speak under them.
 */
export function isServiceHeaderName(name: string): boolean {
  return (
    /^(?:error|original|replay|redrive)\./.test(name) ||
    name === 'failed.at' ||
    name === 'service.version'
  );
}

/**
 * A producer's own header under one of the service's names travels in a dead letter under this
 * prefix (itself one of the service's names, so the renaming can be undone without doubt).
 */
export const SHELTERED_HEADER_PREFIX = 'original.header.';

/**
 * A message's headers as a dead letter carries them: a producer that sends `error.path` or
 * `replay.run-id` itself cannot make a letter lie about why it failed, as the service's reasons
 * are the only ones under those names; and nothing the producer sent is lost, so a redrive
 * restores the message as it was (restoreProducerHeaders).
 */
export function shelterProducerHeaders(headers: IHeaders): IHeaders {
  const sheltered: IHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    sheltered[isServiceHeaderName(name) ? `${SHELTERED_HEADER_PREFIX}${name}` : name] = value;
  }
  return sheltered;
}

/** The original message's headers out of a dead letter's: the service's own left out. */
export function restoreProducerHeaders(headers: IHeaders): IHeaders {
  const restored: IHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(SHELTERED_HEADER_PREFIX))
      restored[name.slice(SHELTERED_HEADER_PREFIX.length)] = value;
    else if (!isServiceHeaderName(name)) restored[name] = value;
  }
  return restored;
}

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
  const originalHeaders = restoreProducerHeaders(headers);
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
 * untouched, plus headers that record the redrive, replacing any of that name (a later dead
 * letter of it keeps them, sheltered, so `redrive.count` shows a message going round).
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
