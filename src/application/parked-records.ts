/**
 * Parked records (SPEC §4.4): outgoing records the broker refused for good, kept in Postgres
 * for an operator instead of being retried in front of everything else. The relay parks
 * announcements, the consumer parks dead letters; `customer-sync parked` lists, shows and
 * retries them.
 */

export type ParkedKind = 'announcement' | 'dead_letter';

/** A record as sent to Kafka: header values are bytes. */
export interface OutgoingRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer[]>;
}

/** What is parked: the record as it was sent, where to, and why the broker refused it. */
export interface NewParkedRecord extends OutgoingRecord {
  kind: ParkedKind;
  topic: string;
  /** the refusal's code and words (src/messaging/kafka/refused-records.ts), PII-free */
  errorCode: string;
  errorMessage: string;
  /** announcements: the customer.updated eventId and the customer it is about */
  eventId?: string;
  tenantId?: string;
  externalId?: string;
}

export interface ParkedRecord extends NewParkedRecord {
  id: string;
  parkedAt: Date;
  /** how often `parked retry` sent it and the broker refused it again */
  retries: number;
  lastRetriedAt?: Date;
}

export interface ParkedRecordFilter {
  kind?: ParkedKind;
  codes?: string[];
  /** these ids only */
  ids?: string[];
  limit?: number;
}

export interface ParkedRecordStore {
  park(records: NewParkedRecord[]): Promise<void>;
  /** newest first */
  list(filter: ParkedRecordFilter): Promise<ParkedRecord[]>;
  /** all parked records, counted by kind and code */
  counts(): Promise<Array<{ kind: ParkedKind; code: string; count: number }>>;
  /** a retry was delivered: the record is no longer parked */
  remove(ids: string[]): Promise<void>;
  /** a retry was refused again: counted, and the latest refusal kept */
  recordRefusedRetry(id: string, refusal: { code: string; message: string }): Promise<void>;
}

/** Sends records to a topic; resolves with those refused for good, by index (record-sender). */
export interface RecordDelivery {
  send(
    topic: string,
    records: OutgoingRecord[],
  ): Promise<Array<{ index: number; refusal: { code: string; message: string } }>>;
}

export interface ParkedRetryReport {
  chosen: number;
  sent: number;
  /** refused again, by code: they stay parked */
  refusedAgain: Map<string, number>;
}

/**
 * Sends the chosen parked records again, exactly as they were parked, and unparks each one
 * Kafka acknowledged. An announcement goes straight to its topic, after the ones the relay
 * sent since it was parked: its customer.version tells consumers whether it is still news.
 */
export async function retryParkedRecords(
  store: ParkedRecordStore,
  delivery: RecordDelivery,
  filter: ParkedRecordFilter,
): Promise<ParkedRetryReport> {
  const chosen = await store.list(filter);
  const report: ParkedRetryReport = { chosen: chosen.length, sent: 0, refusedAgain: new Map() };
  // oldest first, so that records of one customer are retried in the order they were parked
  const byTopic = Map.groupBy([...chosen].reverse(), (record) => record.topic);
  for (const [topic, records] of byTopic) {
    const refused = await delivery.send(topic, records);
    const refusedIndexes = new Set(refused.map((item) => item.index));
    for (const { index, refusal } of refused) {
      await store.recordRefusedRetry((records[index] as ParkedRecord).id, refusal);
      report.refusedAgain.set(refusal.code, (report.refusedAgain.get(refusal.code) ?? 0) + 1);
    }
    const delivered = records.filter((_, index) => !refusedIndexes.has(index));
    await store.remove(delivered.map((record) => record.id));
    report.sent += delivered.length;
  }
  return report;
}
