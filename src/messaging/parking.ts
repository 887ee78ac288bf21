import type { IHeaders, Message } from 'kafkajs';
import type { NewParkedRecord, OutgoingRecord, ParkedKind } from '../application/parked-records.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { RefusedMessage } from './kafka/record-sender.ts';

const bytes = (value: Buffer | string | null | undefined): Buffer | null =>
  value === null || value === undefined ? null : Buffer.from(value);

function headerBytes(headers: IHeaders | undefined): Record<string, Buffer[]> {
  const result: Record<string, Buffer[]> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    result[name] = (Array.isArray(value) ? value : [value]).map((one) => Buffer.from(one));
  }
  return result;
}

/** A kafkajs message as the bytes that were sent. */
export function outgoingRecordOf(message: Message): OutgoingRecord {
  return {
    key: bytes(message.key),
    value: bytes(message.value),
    headers: headerBytes(message.headers),
  };
}

/** The refused messages of one send, ready to park; `about` adds what an operator looks up. */
export function parkedRecordsOf(
  kind: ParkedKind,
  topic: string,
  messages: Message[],
  refused: RefusedMessage[],
  about: (
    index: number,
  ) => Pick<NewParkedRecord, 'eventId' | 'tenantId' | 'externalId'> = () => ({}),
): NewParkedRecord[] {
  return refused.map(({ index, refusal }) => ({
    ...outgoingRecordOf(messages[index] as Message),
    ...about(index),
    kind,
    topic,
    errorCode: refusal.code,
    errorMessage: refusal.message,
  }));
}

/** Loud, counted, and PII-free: names the record by its eventId or size, never its content. */
export function reportParked(
  records: NewParkedRecord[],
  metrics: Pick<Metrics, 'parkedRecords'>,
  log: Logger,
): void {
  for (const record of records) {
    metrics.parkedRecords.inc({ kind: record.kind, code: record.errorCode });
    log.error(
      {
        kind: record.kind,
        topic: record.topic,
        code: record.errorCode,
        eventId: record.eventId,
        valueBytes: record.value?.length ?? 0,
      },
      'the broker refused a record for good; parked it (customer-sync parked list)',
    );
  }
}
