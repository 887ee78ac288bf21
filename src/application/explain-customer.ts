import type { CustomerUpdatedReason } from '../contracts/customer-updated.ts';
import type {
  CustomerFieldName,
  CustomerFieldValues,
  JsonValue,
} from '../domain/customer-fields.ts';
import type { CustomerKey } from '../domain/customer-key.ts';
import type { ChangedField } from '../domain/customer-record.ts';
import type { StoredCustomer } from '../domain/customer-snapshot.ts';
import { fieldProvenance, type LastWrite, metadataProvenance } from '../domain/field-provenance.ts';
import type { MetadataTombstones } from '../domain/metadata-registers.ts';
import { readableOccurredAt } from '../domain/occurred-at.ts';
import { describeFailure } from '../errors.ts';
import {
  type LetterPosition,
  letterPositionKey,
  type RedriveRecord,
} from './redrive-dead-letters.ts';

/* ------------------------------------------- ports ------------------------------------------- */

/** What processed_events remembers of one request, for PROCESSED_EVENTS_RETENTION_DAYS. */
export interface ProcessedEventRecord {
  eventId: string;
  /** applied | unchanged | stale (SPEC §4.2: the outcome it was recorded with) */
  outcome: string;
  /** null for rows recorded before occurredAt was kept */
  occurredAt: string | null;
  /** SPEC §3 `source`: null when the producer sent none (or the row predates it) */
  source: string | null;
  processedAt: string;
  /** SPEC §4.3: the fields skipped because they held a newer write; null when none */
  staleFields: string[] | null;
}

/** An enrichment job of the customer (SPEC §6), as `explain` shows it. */
export interface EnrichmentJobRecord {
  id: number;
  state: string;
  /** the request that asked for it (the latest one merged in) */
  causationId: string;
  attempts: number;
  lastErrorCode: string | null;
  failureReason: string | null;
  /** the fields it filled, once succeeded */
  changedFields: string[] | null;
  requestedAt: string;
  nextAttemptAt: string;
  finishedAt: string | null;
}

/** The database side of `explain`: one customer's row and what the service noted about it. */
export interface CustomerAuditStore {
  findCustomer(key: CustomerKey): Promise<StoredCustomer | undefined>;
  /** the processed_events rows of these requests of the customer, by eventId */
  processedEvents(
    key: CustomerKey,
    eventIds: readonly string[],
  ): Promise<Map<string, ProcessedEventRecord>>;
  /** the customer's requests that had a write skipped (SPEC §4.3), latest processed first */
  staleWrites(key: CustomerKey): Promise<ProcessedEventRecord[]>;
  /** the customer's open jobs and the succeeded ones that filled fields, newest first */
  enrichmentJobs(key: CustomerKey): Promise<EnrichmentJobRecord[]>;
  /** the redrives of these letters, by letterPositionKey */
  redrives(positions: readonly LetterPosition[]): Promise<Map<string, RedriveRecord>>;
  /** the customer's metadata tombstones, kept apart from its row (domain/metadata-registers.ts) */
  metadataTombstones(key: CustomerKey): Promise<MetadataTombstones>;
}

/** A dead letter of the customer's key, without its payload (it may hold personal data). */
export interface CustomerDeadLetter {
  position: LetterPosition;
  failedAt: string | undefined;
  errorCode: string | undefined;
  errorMessage: string | undefined;
  errorPath: string | undefined;
  /** `topic:partition:offset` of the message that was dead-lettered */
  original: string | undefined;
  /** set when a replay, not the service, dead-lettered it */
  replayRunId: string | undefined;
  /** the request's eventId, when its bytes name one */
  eventId: string | undefined;
}

/** The dead-letter topic, read for one customer's key. */
export interface DeadLetterArchive {
  readonly topic: string;
  /** letters appended at or after `since` (all retained ones without it), in DLQ order */
  lettersFor(key: CustomerKey, since: Date | undefined): Promise<CustomerDeadLetter[]>;
}

/** One `customer.updated` of the customer still on the topic: when the dialers were told. */
export interface Announcement {
  partition: number;
  offset: string;
  /** the Kafka timestamp: when the relay published it */
  publishedAt: string;
  eventId: string | undefined;
  /** what the event says; undefined when its value could not be decoded here */
  event:
    | {
        reason: CustomerUpdatedReason;
        causationId: string;
        changedFields: string[];
        occurredAt: string;
        version: number;
      }
    | undefined;
}

/** customer.updated, read for one customer's key. */
export interface AnnouncementArchive {
  readonly topic: string;
  /** the key's partition and its announcements from `since` (or all retained), in order */
  announcementsFor(
    key: CustomerKey,
    since: Date | undefined,
  ): Promise<{ partition: number; announcements: Announcement[] }>;
}

/* ------------------------------------------ results ------------------------------------------ */

/** Who wrote a field last, with what the service recorded about that write. */
export type ExplainedWrite =
  | {
      kind: 'event';
      eventId: string;
      occurredAt: string;
      /** false once processed_events no longer holds the event (retention): source, appliedAt unknown */
      recorded: boolean;
      source: string | null;
      appliedAt: string | null;
    }
  | {
      kind: 'enrichment';
      /** the job that filled it, while enrichment_jobs holds it */
      jobId: number | null;
      /** the request that asked for the enrichment */
      causationId: string | null;
      filledAt: string | null;
    }
  | { kind: 'never' };

export interface ExplainedField {
  field: CustomerFieldName;
  hasValue: boolean;
  /** only when revealed */
  value?: CustomerFieldValues[CustomerFieldName];
  lastWrite: ExplainedWrite;
}

export interface ExplainedMetadataKey {
  path: string[];
  state: 'value' | 'object' | 'deleted';
  hasValue: boolean;
  /** only when revealed */
  value?: JsonValue;
  lastWrite: ExplainedWrite;
}

export interface ExplainedMetadata {
  hasValue: boolean;
  /** only when revealed */
  value?: JsonValue;
  lastWrite: ExplainedWrite;
  /** the latest `metadata: null`, if any */
  lastCleared?: ExplainedWrite;
  keys: ExplainedMetadataKey[];
}

/** A request that had a write skipped: some field already held a newer one (SPEC §4.3). */
export interface StaleWrite {
  eventId: string;
  occurredAt: string | null;
  source: string | null;
  processedAt: string;
  /** `stale`: every write skipped; `applied`: the others applied */
  outcome: string;
  /** null when the row predates their recording */
  skippedFields: string[] | null;
}

export interface ExplainedDeadLetter extends CustomerDeadLetter {
  /** set once `dlq redrive` sent it back; `outcome` is what processed_events says of it now */
  redrive?: RedriveRecord & { outcome: string | null };
}

/** Something read from Kafka: read, not asked for, or not readable now (and why, PII-free). */
export type KafkaSection<T> =
  | ({ status: 'read'; topic: string } & T)
  | { status: 'skipped' }
  | { status: 'unavailable'; topic: string; reason: string };

export interface CustomerExplanation {
  tenantId: string;
  externalId: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  fields: ExplainedField[];
  /** absent when --field leaves metadata out */
  metadata?: ExplainedMetadata;
  staleWrites: StaleWrite[];
  openEnrichmentJobs: EnrichmentJobRecord[];
  deadLetters: KafkaSection<{ letters: ExplainedDeadLetter[] }>;
  history: KafkaSection<{ partition: number; announcements: Announcement[] }>;
}

export interface ExplainCustomerOptions {
  /** only these fields (and their stale writes and announcements); all when absent */
  fields?: ReadonlySet<ChangedField>;
  /** include the values themselves (personal data) */
  reveal: boolean;
  /** the earliest Kafka timestamp to read dead letters and announcements from */
  since?: Date;
}

export interface ExplainCustomerPorts {
  audit: CustomerAuditStore;
  /** absent: the DLQ is not read (--no-dlq) */
  deadLetters?: DeadLetterArchive;
  /** absent: no history (it is read only with --history) */
  announcements?: AnnouncementArchive;
}

const OPEN_JOB_STATES = new Set(['pending', 'running']);

/* ----------------------------------------- use case ----------------------------------------- */

/**
 * SPEC §7 `explain`: why a customer looks as it does. For every field the write that set it
 * (the event in its stamp, SPEC §4.3, with the source and time processed_events recorded, or
 * the enrichment job that filled it, SPEC §6), the writes that were skipped as stale, the open
 * enrichment jobs, and, from Kafka, the customer's dead letters with their redrives and the
 * announcements the dialers received. Undefined when the customer does not exist.
 */
export async function explainCustomer(
  ports: ExplainCustomerPorts,
  key: CustomerKey,
  options: ExplainCustomerOptions,
): Promise<CustomerExplanation | undefined> {
  const customer = await ports.audit.findCustomer(key);
  if (customer === undefined) return undefined;
  const selected = (field: ChangedField) =>
    options.fields === undefined || options.fields.has(field);

  const fields = fieldProvenance(customer.record).filter((entry) => selected(entry.field));
  const metadata = selected('metadata')
    ? metadataProvenance(
        customer.record.metadataRegisters,
        customer.record.metadata,
        await ports.audit.metadataTombstones(key),
      )
    : undefined;
  const writes: LastWrite[] = [
    ...fields.map((entry) => entry.lastWrite),
    ...(metadata
      ? [metadata.lastWrite, ...(metadata.lastCleared ? [metadata.lastCleared] : [])]
      : []),
    ...(metadata?.keys.map((entry) => entry.lastWrite) ?? []),
  ];

  const [processed, staleWrites, jobs, deadLetters, history] = await Promise.all([
    ports.audit.processedEvents(key, eventIdsOf(writes)),
    ports.audit.staleWrites(key),
    ports.audit.enrichmentJobs(key),
    readDeadLetters(ports, key, options.since),
    readHistory(ports.announcements, key, options.since),
  ]);

  const explainWrite = (write: LastWrite, field?: string): ExplainedWrite => {
    if (write.kind === 'never') return write;
    if (write.kind === 'enrichment') {
      // A field is filled once (it is no longer empty after), so the newest job naming it did.
      const job = jobs.find(
        (candidate) =>
          candidate.state === 'succeeded' &&
          field !== undefined &&
          candidate.changedFields?.includes(field),
      );
      return {
        kind: 'enrichment',
        jobId: job?.id ?? null,
        causationId: job?.causationId ?? null,
        filledAt: job?.finishedAt ?? null,
      };
    }
    const record = processed.get(write.eventId);
    return {
      kind: 'event',
      eventId: write.eventId,
      occurredAt: readableOccurredAt(write.occurredAt),
      recorded: record !== undefined,
      source: record?.source ?? null,
      appliedAt: record?.processedAt ?? null,
    };
  };
  const revealed = <T>(value: T) => (options.reveal ? { value } : {});

  return {
    tenantId: customer.tenantId,
    externalId: customer.externalId,
    version: customer.record.version,
    createdAt: customer.createdAt,
    updatedAt: customer.updatedAt,
    fields: fields.map((entry) => ({
      field: entry.field,
      hasValue: entry.hasValue,
      ...revealed(entry.value),
      lastWrite: explainWrite(entry.lastWrite, entry.field),
    })),
    ...(metadata
      ? {
          metadata: {
            hasValue: metadata.hasValue,
            ...revealed(metadata.value),
            lastWrite: explainWrite(metadata.lastWrite),
            ...(metadata.lastCleared ? { lastCleared: explainWrite(metadata.lastCleared) } : {}),
            keys: metadata.keys.map((entry) => ({
              path: entry.path,
              state: entry.state,
              hasValue: entry.hasValue,
              ...(entry.value !== undefined ? revealed(entry.value) : {}),
              lastWrite: explainWrite(entry.lastWrite),
            })),
          },
        }
      : {}),
    staleWrites: staleWrites
      .filter(
        (write) =>
          write.staleFields === null ||
          write.staleFields.some((field) => selected(field as ChangedField)),
      )
      .map((write) => ({
        eventId: write.eventId,
        occurredAt: write.occurredAt,
        source: write.source,
        processedAt: write.processedAt,
        outcome: write.outcome,
        skippedFields: write.staleFields,
      })),
    openEnrichmentJobs: jobs.filter((job) => OPEN_JOB_STATES.has(job.state)),
    deadLetters,
    history:
      history.status === 'read' && options.fields !== undefined
        ? {
            ...history,
            announcements: history.announcements.filter((announcement) =>
              toldAbout(announcement, selected),
            ),
          }
        : history,
  };
}

function eventIdsOf(writes: readonly LastWrite[]): string[] {
  const ids = new Set<string>();
  for (const write of writes) if (write.kind === 'event') ids.add(write.eventId);
  return [...ids];
}

/** An announcement told the dialers about a field if it changed it, or re-sent everything. */
function toldAbout(announcement: Announcement, selected: (field: ChangedField) => boolean) {
  const event = announcement.event;
  if (event === undefined || event.reason === 'republish') return true;
  return event.changedFields.some((field) => selected(field as ChangedField));
}

async function readDeadLetters(
  ports: ExplainCustomerPorts,
  key: CustomerKey,
  since: Date | undefined,
): Promise<CustomerExplanation['deadLetters']> {
  const archive = ports.deadLetters;
  if (archive === undefined) return { status: 'skipped' };
  let letters: CustomerDeadLetter[];
  try {
    letters = await archive.lettersFor(key, since);
  } catch (error) {
    return { status: 'unavailable', topic: archive.topic, reason: reasonOf(error) };
  }
  const redrives = await ports.audit.redrives(letters.map((letter) => letter.position));
  const redrivenIds = [...redrives.values()].flatMap((redrive) =>
    redrive.eventId === null ? [] : [redrive.eventId],
  );
  const outcomes = await ports.audit.processedEvents(key, redrivenIds);
  return {
    status: 'read',
    topic: archive.topic,
    letters: letters.map((letter) => {
      const redrive = redrives.get(letterPositionKey(letter.position));
      if (redrive === undefined) return letter;
      const outcome =
        redrive.eventId === null ? null : (outcomes.get(redrive.eventId)?.outcome ?? null);
      return { ...letter, redrive: { ...redrive, outcome } };
    }),
  };
}

async function readHistory(
  archive: AnnouncementArchive | undefined,
  key: CustomerKey,
  since: Date | undefined,
): Promise<CustomerExplanation['history']> {
  if (archive === undefined) return { status: 'skipped' };
  try {
    return {
      status: 'read',
      topic: archive.topic,
      ...(await archive.announcementsFor(key, since)),
    };
  } catch (error) {
    return { status: 'unavailable', topic: archive.topic, reason: reasonOf(error) };
  }
}

/** PII-free: the failure's code and kind, never its message (it may quote a broker's text). */
function reasonOf(error: unknown): string {
  const { code, kind } = describeFailure(error);
  return code === undefined ? kind : `${kind} (${code})`;
}
