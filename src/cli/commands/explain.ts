import type { Admin } from 'kafkajs';
import {
  type CustomerExplanation,
  type ExplainCustomerPorts,
  type ExplainedWrite,
  explainCustomer,
} from '../../application/explain-customer.ts';
import type { Config } from '../../config/config.ts';
import { CHANGED_FIELD_NAMES } from '../../contracts/customer-updated.ts';
import type { JsonValue } from '../../domain/customer-fields.ts';
import { kafkaKeyOf } from '../../domain/customer-key.ts';
import type { ChangedField } from '../../domain/customer-record.ts';
import { createDeadLetterArchive } from '../../messaging/dead-letters/customer-dead-letters.ts';
import { createAnnouncementArchive } from '../../messaging/outbox/customer-announcements.ts';
import { createCustomerUpdatedDecoder } from '../../messaging/outbox/customer-updated-decoder.ts';
import { createCustomerAuditReader } from '../../persistence/customer-audit-reader.ts';
import { connectDatabase } from '../../persistence/database.ts';
import { alignedPairs, alignedTable } from '../aligned-table.ts';
import { commandKafka } from '../command-kafka.ts';
import { loadCommandConfig } from '../load-command-config.ts';
import { createProgress } from '../progress.ts';
import { parseExternalId, parseTenantId, parseTime } from '../range-arguments.ts';
import { reachDependencies } from '../reach-dependencies.ts';
import { terminalSafe, terminalSafeJson } from '../terminal-text.ts';
import { parseCommandLine, UsageError } from '../usage-error.ts';

/** Names joined by commas into lines of at most `width` characters, each indented. */
function wrappedList(names: readonly string[], indent: number, width: number): string {
  const lines: string[] = [];
  for (const name of names) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + name.length + 2 <= width)
      lines[lines.length - 1] = `${last} ${name},`;
    else lines.push(`${name},`);
  }
  return lines
    .map((line) => `${' '.repeat(indent)}${line}`)
    .join('\n')
    .replace(/,$/, '');
}

export const explainHelp = `customer-sync explain <tenantId> <externalId> [--field <fields>] [--reveal] [--json]
                      [--no-dlq] [--history] [--since <time>]

Why a customer looks as it does. For every field, and every metadata key: whether it holds a
value, and the write that set it: the event (its eventId, occurredAt, source, and when it was
applied), the enrichment job that filled it, or "never written". Then the customer's version,
createdAt and updatedAt; the writes that were skipped because the field already held a newer
one (stale, SPEC §4.3); the open enrichment jobs; and the dead letters of the customer's key on
TOPIC_DEAD_LETTER, with their redrives.

Options:
  --field <fields>   only these fields (and their stale writes and announcements), comma
                     separated, of:
${wrappedList(CHANGED_FIELD_NAMES, 21, 74)}
  --reveal           print the values themselves; without it they are hidden (personal data)
  --json             one JSON object on stdout, for scripts
  --no-dlq           do not read the dead-letter topic
  --history          also list the customer's announcements still on customer.updated
                     (TOPIC_CUSTOMER_UPDATED): when the dialers were told what, with reason,
                     changed fields and eventId
  --since <time>     read dead letters and announcements from this RFC 3339 time on

What it can see: an event's source and applied-at while processed_events keeps the event
(PROCESSED_EVENTS_RETENTION_DAYS); dead letters and announcements while their topics retain
them. Kafka is needed unless --no-dlq is given without --history; if it cannot be reached, the
rest is still shown and says so.

Exit codes: 0 shown, 1 no such customer (or a failure), 2 bad arguments, 78 configuration.`;

/** kafkajs' retries for explain's admin client: an unreachable Kafka is reported in seconds. */
const KAFKA_RETRIES = 2;

interface ExplainArguments {
  tenantId: string;
  externalId: string;
  fields: Set<ChangedField> | undefined;
  reveal: boolean;
  json: boolean;
  readDeadLetters: boolean;
  history: boolean;
  since: Date | undefined;
}

function parseExplainArguments(args: string[]): ExplainArguments {
  const { values, positionals } = parseCommandLine(
    args,
    {
      field: { type: 'string' },
      reveal: { type: 'boolean' },
      json: { type: 'boolean' },
      'no-dlq': { type: 'boolean' },
      history: { type: 'boolean' },
      since: { type: 'string' },
    },
    true,
  );
  const [tenant, external, ...extra] = positionals;
  if (tenant === undefined || external === undefined || extra.length > 0)
    throw new UsageError('explain: expected <tenantId> <externalId>, e.g. explain tenant-a c-881');
  const readDeadLetters = values['no-dlq'] !== true;
  const history = values.history === true;
  if (values.since !== undefined && !readDeadLetters && !history)
    throw new UsageError(
      'explain: --since bounds the dead letters and --history; with --no-dlq it needs --history',
    );
  return {
    tenantId: parseTenantId(tenant, 'explain: <tenantId>'),
    externalId: parseExternalId(external, 'explain: <externalId>'),
    fields: values.field === undefined ? undefined : parseFields(values.field),
    reveal: values.reveal === true,
    json: values.json === true,
    readDeadLetters,
    history,
    since: values.since === undefined ? undefined : parseTime(values.since, 'explain: --since'),
  };
}

function parseFields(text: string): Set<ChangedField> {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const known = CHANGED_FIELD_NAMES as readonly string[];
  const unknown = names.find((name) => !known.includes(name));
  if (names.length === 0 || unknown !== undefined)
    throw new UsageError(
      `explain: --field ${unknown === undefined ? 'needs a field name' : `'${unknown}' is not a customer field`}` +
        ` (one of ${CHANGED_FIELD_NAMES.join(', ')})`,
    );
  return new Set(names as ChangedField[]);
}

export async function explainCommand(args: string[]): Promise<number> {
  const options = parseExplainArguments(args);
  const needsKafka = options.readDeadLetters || options.history;
  const config = loadCommandConfig(needsKafka ? ['kafka', 'database'] : ['database']);
  // Kafka is optional here: an unreachable broker leaves the dead letters and history out.
  await reachDependencies(config, ['database']);
  const database = connectDatabase(config.database, {
    poolMax: 2,
    applicationName: 'customer-sync-explain',
    timeouts: config.database.timeouts,
  });
  const kafkaReads = needsKafka ? kafkaArchives(config, options) : undefined;
  try {
    const key = { tenantId: options.tenantId, externalId: options.externalId };
    const explanation = await explainCustomer(
      { audit: createCustomerAuditReader(database.db), ...kafkaReads?.archives },
      key,
      {
        reveal: options.reveal,
        ...(options.fields ? { fields: options.fields } : {}),
        ...(options.since ? { since: options.since } : {}),
      },
    );
    kafkaReads?.finish();
    if (explanation === undefined) {
      process.stderr.write(
        `customer-sync: explain: tenant ${options.tenantId} has no customer ${options.externalId}\n`,
      );
      return 1;
    }
    const output = options.json
      ? terminalSafeJson(explanation)
      : explanationText(explanation, options, config).join('\n');
    process.stdout.write(`${output}\n`);
    return 0;
  } finally {
    await kafkaReads?.close();
    await database.close();
  }
}

/** The Kafka side: the DLQ and, with --history, customer.updated, over one admin client. */
function kafkaArchives(config: Config, options: ExplainArguments) {
  const { kafka, runGroupId } = commandKafka(config, 'explain', {
    initialRetryTime: 300,
    retries: KAFKA_RETRIES,
  });
  const admin = kafka.admin();
  let connected: Promise<Admin> | undefined;
  const connectedAdmin = () => {
    connected ??= admin.connect().then(() => admin);
    return connected;
  };
  const progress = options.history ? createProgress('explain --history') : undefined;
  let announcementsRead: number | undefined;
  const archives: Omit<ExplainCustomerPorts, 'audit'> = {};
  if (options.readDeadLetters) {
    archives.deadLetters = createDeadLetterArchive({
      kafka,
      admin: connectedAdmin,
      topic: config.topics.deadLetter,
      groupId: runGroupId('explain-dlq'),
    });
  }
  if (options.history) {
    archives.announcements = createAnnouncementArchive({
      kafka,
      admin: connectedAdmin,
      topic: config.topics.customerUpdated,
      groupId: runGroupId('explain-history'),
      decoder: createCustomerUpdatedDecoder(config),
      onProgress(read, total) {
        announcementsRead = read;
        progress?.setTotal(total);
        progress?.update(read);
      },
    });
  }
  return {
    archives,
    finish: () => {
      if (announcementsRead !== undefined)
        progress?.finish(
          `${announcementsRead} message(s) of ${config.topics.customerUpdated} read`,
        );
    },
    close: async () => {
      if (connected !== undefined) await admin.disconnect().catch(() => {});
    },
  };
}

/* ------------------------------------------- text ------------------------------------------- */

const NOT_KEPT = '(not kept)';

/**
 * An aligned table whose every cell is made terminal-safe first: values, metadata keys,
 * sources, error headers and announcement ids all came from producers or stored data.
 */
function safeTable(rows: ReadonlyArray<readonly string[]>): string[] {
  return alignedTable(rows.map((row) => row.map(terminalSafe)));
}

function explanationText(
  explanation: CustomerExplanation,
  options: ExplainArguments,
  config: Config,
): string[] {
  const lines = alignedPairs(
    [
      ['customer', kafkaKeyOf(explanation)],
      ['version', String(explanation.version)],
      ['created at', explanation.createdAt],
      ['updated at', explanation.updatedAt],
    ],
    12,
  );
  lines.push('', ...fieldLines(explanation, options.reveal, config));
  lines.push('', ...staleWriteLines(explanation));
  lines.push('', ...enrichmentJobLines(explanation));
  lines.push('', ...deadLetterLines(explanation));
  if (options.history) lines.push('', ...historyLines(explanation, options.since));
  return lines;
}

function fieldLines(explanation: CustomerExplanation, reveal: boolean, config: Config): string[] {
  const rows: string[][] = [
    ['FIELD', 'VALUE', 'LAST WRITE', 'EVENT ID', 'OCCURRED AT', 'SOURCE', 'APPLIED AT'],
  ];
  for (const field of explanation.fields) {
    rows.push([
      field.field,
      valueCell(field.hasValue, reveal, field.value),
      writeKind(field.lastWrite, field.hasValue ? undefined : 'cleared'),
      ...writeCells(field.lastWrite),
    ]);
  }
  const metadata = explanation.metadata;
  if (metadata) {
    rows.push([
      'metadata',
      valueCell(metadata.hasValue, reveal, metadata.value),
      writeKind(metadata.lastWrite),
      ...writeCells(metadata.lastWrite),
    ]);
    for (const entry of metadata.keys) {
      const deleted = entry.state === 'deleted';
      rows.push([
        metadataPathText(entry.path),
        deleted ? 'deleted' : valueCell(entry.hasValue, reveal, entry.value),
        writeKind(entry.lastWrite, deleted ? 'deleted' : undefined),
        ...writeCells(entry.lastWrite),
      ]);
    }
  }
  const lines = safeTable(rows);
  if (metadata?.lastCleared?.kind === 'event') {
    lines.push(
      `metadata was last cleared (metadata: null) by event ${metadata.lastCleared.eventId}, occurred ${metadata.lastCleared.occurredAt}`,
    );
  }
  if (!reveal) lines.push('values hidden: they may hold personal data; --reveal shows them');
  const all = [...explanation.fields.map((field) => field.lastWrite)];
  if (metadata) all.push(metadata.lastWrite, ...metadata.keys.map((entry) => entry.lastWrite));
  if (all.some((write) => write.kind === 'event' && !write.recorded)) {
    lines.push(
      `${NOT_KEPT}: processed_events keeps an event's source and time for ${config.database.processedEventsRetentionDays} days (PROCESSED_EVENTS_RETENTION_DAYS)`,
    );
  }
  return lines;
}

function valueCell(hasValue: boolean, reveal: boolean, value: JsonValue | undefined): string {
  if (!reveal) return hasValue ? 'set' : 'empty';
  if (!hasValue || value === undefined || value === null) return '(empty)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function writeKind(write: ExplainedWrite, what?: 'cleared' | 'deleted'): string {
  if (write.kind === 'never') return 'never written';
  if (write.kind === 'enrichment') return 'enrichment';
  return what === undefined ? 'event' : `event (${what})`;
}

/** EVENT ID, OCCURRED AT, SOURCE, APPLIED AT */
function writeCells(write: ExplainedWrite): string[] {
  if (write.kind === 'never') return ['-', '-', '-', '-'];
  if (write.kind === 'enrichment') {
    return [
      write.causationId ?? '-',
      '-',
      write.jobId === null ? 'lending system' : `lending system (job ${write.jobId})`,
      write.filledAt ?? '-',
    ];
  }
  return [
    write.eventId,
    write.occurredAt,
    write.recorded ? (write.source ?? '-') : NOT_KEPT,
    write.appliedAt ?? NOT_KEPT,
  ];
}

/**
 * `metadata.tier`, or `metadata["a.b"]` for a key that is not a plain name (shown as it is: the
 * table makes it terminal-safe).
 */
function metadataPathText(path: readonly string[]): string {
  return path.reduce(
    (text, key) => (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `${text}.${key}` : `${text}["${key}"]`),
    'metadata',
  );
}

function staleWriteLines(explanation: CustomerExplanation): string[] {
  const writes = explanation.staleWrites;
  const heading = 'stale writes (skipped: the field already held a newer write, SPEC §4.3)';
  if (writes.length === 0) return [`${heading}: none recorded`];
  return [
    `${heading}: ${writes.length}`,
    ...safeTable([
      ['EVENT ID', 'OCCURRED AT', 'SOURCE', 'PROCESSED AT', 'OUTCOME', 'SKIPPED FIELDS'],
      ...writes.map((write) => [
        write.eventId,
        write.occurredAt ?? '-',
        write.source ?? '-',
        write.processedAt,
        write.outcome,
        write.skippedFields?.join(',') ?? '(not recorded)',
      ]),
    ]),
  ];
}

function enrichmentJobLines(explanation: CustomerExplanation): string[] {
  const jobs = explanation.openEnrichmentJobs;
  if (jobs.length === 0) return ['open enrichment jobs: none'];
  return [
    `open enrichment jobs: ${jobs.length}`,
    ...safeTable([
      ['JOB', 'STATE', 'REQUESTED AT', 'ATTEMPTS', 'LAST ERROR', 'NEXT ATTEMPT', 'ASKED BY'],
      ...jobs.map((job) => [
        String(job.id),
        job.state,
        job.requestedAt,
        String(job.attempts),
        job.lastErrorCode ?? '-',
        job.nextAttemptAt,
        job.causationId,
      ]),
    ]),
  ];
}

function deadLetterLines(explanation: CustomerExplanation): string[] {
  const section = explanation.deadLetters;
  if (section.status === 'skipped') return ['dead letters: not read (--no-dlq)'];
  if (section.status === 'unavailable')
    return [terminalSafe(`dead letters: ${section.topic} could not be read: ${section.reason}`)];
  const heading = `dead letters on ${section.topic} with key ${kafkaKeyOf(explanation)}`;
  if (section.letters.length === 0) return [`${heading}: none`];
  return [
    `${heading}: ${section.letters.length}`,
    ...safeTable([
      ['POSITION', 'FAILED AT', 'ERROR CODE', 'PATH', 'EVENT ID', 'REDRIVEN'],
      ...section.letters.map((letter) => [
        `${letter.position.partition}:${letter.position.offset}`,
        letter.failedAt ?? '-',
        letter.errorCode ?? '-',
        letter.errorPath ?? '-',
        letter.eventId ?? letter.redrive?.eventId ?? '-',
        letter.redrive === undefined
          ? 'no'
          : `${letter.redrive.redrivenAt} (${letter.redrive.outcome ?? 'not processed yet'})`,
      ]),
    ]),
    'customer-sync dlq show <position> shows a letter; --reveal its payload',
  ];
}

function historyLines(explanation: CustomerExplanation, since: Date | undefined): string[] {
  const section = explanation.history;
  if (section.status === 'skipped') return [];
  if (section.status === 'unavailable')
    return [terminalSafe(`announcements: ${section.topic} could not be read: ${section.reason}`)];
  const range = since === undefined ? 'all it retains' : `since ${since.toISOString()}`;
  const heading = `announcements on ${section.topic} partition ${section.partition} (${range})`;
  if (section.announcements.length === 0) return [`${heading}: none`];
  return [
    `${heading}: ${section.announcements.length}`,
    ...safeTable([
      ['OFFSET', 'PUBLISHED AT', 'REASON', 'VERSION', 'EVENT ID', 'CAUSED BY', 'CHANGED FIELDS'],
      ...section.announcements.map((announcement) => {
        const event = announcement.event;
        return [
          announcement.offset,
          announcement.publishedAt,
          event?.reason ?? '(not decoded)',
          event === undefined ? '-' : String(event.version),
          announcement.eventId ?? '-',
          event?.causationId ?? '-',
          event === undefined ? '-' : event.changedFields.join(',') || '-',
        ];
      }),
    ]),
  ];
}
