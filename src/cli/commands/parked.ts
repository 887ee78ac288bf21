import {
  type ParkedKind,
  type ParkedRecord,
  type ParkedRecordFilter,
  retryParkedRecords,
} from '../../application/parked-records.ts';
import { createKafka } from '../../messaging/kafka/kafka-client.ts';
import { REFUSAL_CODES } from '../../messaging/kafka/refused-records.ts';
import { connectDatabase } from '../../persistence/database.ts';
import { createParkedRecordStore } from '../../persistence/parked-record-store.ts';
import { alignedTable } from '../aligned-table.ts';
import { createCommandLogger } from '../command-logger.ts';
import { createCommandRecordSender } from '../command-record-sender.ts';
import { loadCommandConfig } from '../load-command-config.ts';
import { parseCount } from '../range-arguments.ts';
import { reachDependencies } from '../reach-dependencies.ts';
import { terminalSafe, terminalSafeJson } from '../terminal-text.ts';
import { parseCommandLine, UsageError } from '../usage-error.ts';

export const parkedHelp = `customer-sync parked list [--kind <kind>] [--code <codes>] [--limit <n>] [--json]
customer-sync parked show <id> [--reveal] [--json]
customer-sync parked retry (<id>… | --all) [--kind <kind>] [--code <codes>] [--json]

Parked records are outgoing records the broker refused for good, for their size or content:
customer.updated announcements the outbox relay could not publish, and dead letters the
consumer could not write to the DLQ. They are kept in Postgres (parked_records) exactly as
they were sent, so that nothing is lost and nothing refused holds up the records behind it.

  list    the latest parked records (--limit, default 50) and a count by kind and code
  show    one parked record: where it was going, why it was refused, its size and headers;
          its key, value and header values only with --reveal (they may hold personal data)
  retry   sends the chosen records again, unchanged, once the cause is fixed (e.g. the
          topic's max.message.bytes raised); each one Kafka acknowledges is unparked, each one
          refused again stays parked with its new refusal

Options:
  --kind <kind>      announcement or dead_letter
  --code <codes>     only these refusal codes, comma separated (${REFUSAL_CODES.join(', ')})
  --limit <n>        list: how many to show (1..10000)
  --all              retry: every record the --kind and --code filters choose
  --reveal           show: print the key, value and header values
  --json             machine-readable output on stdout

A retried announcement goes out after the announcements the relay published since it was
parked: consumers that keep the newest customer.version ignore it if they have a newer one. To
announce a customer's current state instead, use
\`customer-sync republish --tenant … --external-id …\`; the parked record stays listed until
it is retried.

Exit codes: 0 done (retry: all sent), 1 failed or refused again, 2 bad arguments.`;

export async function parkedCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'list') return listParked(rest);
  if (action === 'show') return showParked(rest);
  if (action === 'retry') return retryParked(rest);
  throw new UsageError(
    `parked: expected 'list', 'show' or 'retry', got ${action === undefined ? 'nothing' : `'${action}'`}`,
  );
}

const FILTER_OPTIONS = {
  kind: { type: 'string' },
  code: { type: 'string' },
  json: { type: 'boolean' },
} as const;

function parseFilter(
  values: { kind?: string; code?: string },
  command: string,
): ParkedRecordFilter {
  const filter: ParkedRecordFilter = {};
  if (values.kind !== undefined) {
    if (values.kind !== 'announcement' && values.kind !== 'dead_letter')
      throw new UsageError(`${command}: --kind must be announcement or dead_letter`);
    filter.kind = values.kind as ParkedKind;
  }
  if (values.code !== undefined) {
    const codes = values.code
      .split(',')
      .map((code) => code.trim())
      .filter(Boolean);
    const unknown = codes.find((code) => !(REFUSAL_CODES as readonly string[]).includes(code));
    if (codes.length === 0 || unknown !== undefined)
      throw new UsageError(
        `${command}: --code ${unknown === undefined ? 'needs a code' : `'${unknown}' is not a refusal code`} (one of ${REFUSAL_CODES.join(', ')})`,
      );
    filter.codes = codes;
  }
  return filter;
}

function parseId(text: string, command: string): string {
  if (!/^[1-9]\d{0,18}$/.test(text))
    throw new UsageError(`${command}: '${text}' is not a parked record id`);
  return text;
}

async function withStore<T>(
  command: string,
  work: (store: ReturnType<typeof createParkedRecordStore>) => Promise<T>,
): Promise<T> {
  const config = loadCommandConfig(['database']);
  await reachDependencies(config, ['database']);
  const database = connectDatabase(config.database, {
    poolMax: 1,
    applicationName: `customer-sync-${command}`,
    timeouts: config.database.timeouts,
  });
  try {
    return await work(createParkedRecordStore(database.sql));
  } finally {
    await database.close();
  }
}

function summary(record: ParkedRecord) {
  return {
    id: record.id,
    kind: record.kind,
    topic: record.topic,
    code: record.errorCode,
    parkedAt: record.parkedAt.toISOString(),
    valueBytes: record.value?.length ?? 0,
    eventId: record.eventId ?? null,
    customer:
      record.tenantId !== undefined ? `${record.tenantId}:${record.externalId ?? ''}` : null,
    retries: record.retries,
  };
}

async function listParked(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    args,
    { ...FILTER_OPTIONS, limit: { type: 'string' } },
    true,
  );
  if (positionals.length > 0) throw new UsageError('parked list: takes no arguments, only options');
  const filter = parseFilter(values, 'parked list');
  filter.limit =
    values.limit === undefined ? 50 : parseCount(values.limit, 'parked list: --limit', 1, 10_000);
  return withStore('parked-list', async (store) => {
    const records = await store.list(filter);
    if (values.json) {
      for (const record of records) process.stdout.write(`${terminalSafeJson(summary(record))}\n`);
      return 0;
    }
    const rows = [
      ['ID', 'PARKED AT', 'KIND', 'CODE', 'BYTES', 'CUSTOMER', 'EVENT ID', 'RETRIES'],
      ...records.map((record) => {
        const row = summary(record);
        return [
          row.id,
          row.parkedAt,
          row.kind,
          row.code,
          String(row.valueBytes),
          row.customer ?? '-',
          row.eventId ?? '-',
          String(row.retries),
        ];
      }),
    ];
    for (const line of alignedTable(rows)) process.stdout.write(`${line}\n`);
    const counts = await store.counts();
    const total = counts.reduce((sum, count) => sum + count.count, 0);
    process.stderr.write(
      `${total} parked record(s)${total > 0 ? `: ${counts.map((count) => `${count.kind} ${count.code} ${count.count}`).join(', ')}` : ''}\n`,
    );
    return 0;
  });
}

async function showParked(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    args,
    { reveal: { type: 'boolean' }, json: { type: 'boolean' } },
    true,
  );
  if (positionals.length !== 1) throw new UsageError('parked show: expects one parked record id');
  const id = parseId(positionals[0] as string, 'parked show');
  return withStore('parked-show', async (store) => {
    const [record] = await store.list({ ids: [id] });
    if (record === undefined) {
      process.stderr.write(`parked show: no parked record ${id}\n`);
      return 1;
    }
    const reveal = values.reveal === true;
    const headers = Object.fromEntries(
      Object.entries(record.headers).map(([name, list]) => [
        name,
        reveal ? list.map((value) => value.toString('utf8')) : `${list.length} value(s)`,
      ]),
    );
    const shown = {
      ...summary(record),
      message: record.errorMessage,
      lastRetriedAt: record.lastRetriedAt?.toISOString() ?? null,
      keyBytes: record.key?.length ?? 0,
      headers,
      ...(reveal
        ? {
            key: record.key?.toString('utf8') ?? null,
            value: record.value?.toString('utf8') ?? null,
          }
        : {}),
    };
    // A dead letter's key, headers and value were written by whoever produced the original
    // message: shown escaped (terminal-text.ts).
    if (values.json) {
      process.stdout.write(`${terminalSafeJson(shown)}\n`);
      return 0;
    }
    for (const [name, value] of Object.entries(shown)) {
      if (name === 'headers') continue;
      process.stdout.write(
        `${name.padEnd(14)} ${value === null ? '-' : terminalSafe(String(value))}\n`,
      );
    }
    for (const [name, value] of Object.entries(headers))
      process.stdout.write(
        `header         ${terminalSafe(name)}: ${terminalSafe(Array.isArray(value) ? value.join(', ') : value)}\n`,
      );
    if (!reveal)
      process.stdout.write(
        'payload        hidden: it may hold personal data; --reveal shows key, value and header values\n',
      );
    return 0;
  });
}

async function retryParked(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    args,
    { ...FILTER_OPTIONS, all: { type: 'boolean' } },
    true,
  );
  const filter = parseFilter(values, 'parked retry');
  if (positionals.length > 0 && values.all)
    throw new UsageError('parked retry: give ids or --all, not both');
  if (positionals.length === 0 && !values.all)
    throw new UsageError('parked retry: give the ids to retry, or --all');
  if (positionals.length > 0) filter.ids = positionals.map((text) => parseId(text, 'parked retry'));

  const config = loadCommandConfig(['kafka', 'database']);
  const logger = createCommandLogger(config, 'parked-retry');
  const kafka = createKafka(config, logger, '-parked');
  const sender = createCommandRecordSender(kafka, config, logger);
  await reachDependencies(config, ['database', 'kafka']);
  const database = connectDatabase(config.database, {
    poolMax: 1,
    applicationName: 'customer-sync-parked-retry',
    timeouts: config.database.timeouts,
  });
  try {
    await sender.connect();
    const report = await retryParkedRecords(createParkedRecordStore(database.sql), sender, filter);
    const refused = [...report.refusedAgain.values()].reduce((sum, count) => sum + count, 0);
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ chosen: report.chosen, sent: report.sent, refusedAgain: Object.fromEntries(report.refusedAgain) })}\n`,
      );
    } else {
      process.stdout.write(
        `chosen         ${report.chosen}\nsent           ${report.sent} (unparked)\n` +
          `refused again  ${refused}${refused > 0 ? `   ${[...report.refusedAgain].map(([code, count]) => `${code} ${count}`).join(', ')} (still parked)` : ''}\n`,
      );
    }
    return refused > 0 ? 1 : 0;
  } finally {
    await sender.disconnect();
    await database.close();
  }
}
