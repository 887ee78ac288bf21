import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import { letterPositionKey, redriveDeadLetters } from '../../application/redrive-dead-letters.ts';
import type { Config } from '../../config/config.ts';
import { ALL_ERROR_CODES, isErrorCode } from '../../contracts/error-codes.ts';
import { checkTenantRules, type TenantConfiguration } from '../../contracts/tenant-rules.ts';
import { CustomerSyncError } from '../../errors.ts';
import { createMessageFormats } from '../../messaging/consumer/message-formats.ts';
import { readDeadLetters } from '../../messaging/dead-letters/dead-letter-reader.ts';
import {
  type DeadLetterRecord,
  originalMessageOf,
  redriveMessage,
} from '../../messaging/dead-letters/dead-letter-records.ts';
import { COMPRESSION_TYPE_OF, createProducer } from '../../messaging/kafka/kafka-client.ts';
import {
  messagesIn,
  type PartitionRange,
  type RangeBound,
  resolveTopicRange,
} from '../../messaging/kafka/topic-range.ts';
import { createMetrics } from '../../observability/metrics.ts';
import { connectDatabase } from '../../persistence/database.ts';
import { createRedriveLedger } from '../../persistence/redrive-ledger.ts';
import { createTenantRepository } from '../../persistence/tenant-repository.ts';
import { commandKafka } from '../command-kafka.ts';
import { EXIT_INTERRUPTED, stopOnInterrupt } from '../interrupt.ts';
import { loadCommandConfig } from '../load-command-config.ts';
import { createProgress } from '../progress.ts';
import { parseCount, parseTime } from '../range-arguments.ts';
import { reachDependencies } from '../reach-dependencies.ts';
import { terminalSafe, terminalSafeJson } from '../terminal-text.ts';
import { parseCommandLine, UsageError, unknownAction } from '../usage-error.ts';
import {
  type ListedLetter,
  listed,
  printLetter,
  printLetters,
  printRedriveReport,
} from './dlq-output.ts';

export const dlqHelp = `customer-sync dlq list [--code <codes>] [--since <time>] [--limit <n>] [--json]
customer-sync dlq show <partition:offset> [--reveal] [--json]
customer-sync dlq redrive [--code <codes>] [--since <time>] [--dry-run] [--include-failing] [--json]

Dead letters are on customer.update.requested.dlq (TOPIC_DEAD_LETTER): the original key and
value, untouched, with headers saying why (error.code, error.message, error.path, the original
topic/partition/offset/timestamp, failed.at, service.version).

  list      the latest dead letters (--limit, default 50) and a count by error code
  show      one dead letter's headers; its payload only with --reveal (it may hold personal
            data, so it is never shown otherwise)
  redrive   sends dead letters back to customer.update.requested with their original key, value
            and headers, plus redrive.source / redrive.at / redrive.run-id / redrive.count

Options:
  --code <codes>       only these error codes, comma separated (e.g. tenant.task_type_not_allowed)
  --since <time>       only letters dead-lettered at or after this RFC 3339 time
  --limit <n>          list: how many to show (1..10000)
  --reveal             show: print the original payload and header values
  --dry-run            redrive: report what would be sent, send and record nothing
  --include-failing    redrive: also send letters that would fail validation again
  --json               machine-readable output on stdout

Redrive first checks every chosen letter against the service's decoding, validation and
tenant configuration as they are now. Letters that would fail again are reported by code and
held back (unless --include-failing): fix the cause (e.g. \`customer-sync tenants set\`), then
redrive again. What was sent is recorded in Postgres (dlq_redrives) in the same step, so a
second redrive of the same letters sends nothing. Ctrl-C stops after the batch in flight.

Exit codes: 0 done, 1 failed, 2 bad arguments, 130 interrupted.`;

export async function dlqCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'list') return listDeadLetters(rest);
  if (action === 'show') return showDeadLetter(rest);
  if (action === 'redrive') return redrive(rest);
  throw unknownAction('dlq', ['list', 'show', 'redrive'], action);
}

function parseCodes(text: string | undefined, command: string): Set<string> | undefined {
  if (text === undefined) return undefined;
  const codes = text
    .split(',')
    .map((code) => code.trim())
    .filter(Boolean);
  const unknown = codes.find((code) => !isErrorCode(code));
  if (codes.length === 0 || unknown !== undefined) {
    throw new UsageError(
      `${command}: --code ${unknown === undefined ? 'needs a code' : `'${unknown}' is not an error code`}` +
        ` (one of ${ALL_ERROR_CODES.join(', ')})`,
    );
  }
  return new Set(codes);
}

function sinceBound(text: string | undefined, command: string): RangeBound {
  return text === undefined
    ? { kind: 'earliest' }
    : { kind: 'time', at: parseTime(text, `${command}: --since`) };
}

/** Kafka, its admin client, and the run's own group id, for one dlq command. */
async function connectKafka(command: string, needsDatabase: boolean) {
  const config = loadCommandConfig(needsDatabase ? ['kafka', 'database'] : ['kafka']);
  // `dlq list` also reads the redrive ledger when DATABASE_URL is set.
  await reachDependencies(config, config.database.url === '' ? ['kafka'] : ['database', 'kafka']);
  const { logger, kafka, runGroupId } = commandKafka(config, `dlq-${command}`);
  const admin = kafka.admin();
  await admin.connect();
  return { config, logger, kafka, admin, groupId: runGroupId(`dlq-${command}`) };
}

async function dlqRanges(
  admin: Admin,
  topic: string,
  from: RangeBound,
  command: string,
  partition?: { partition: number; offset: bigint },
): Promise<PartitionRange[]> {
  try {
    if (partition === undefined) return await resolveTopicRange(admin, topic, { from });
    return await resolveTopicRange(admin, topic, {
      from: { kind: 'offset', offset: partition.offset },
      to: { kind: 'offset', offset: partition.offset + 1n },
      partitions: [partition.partition],
    });
  } catch (error) {
    if (error instanceof CustomerSyncError && error.code === 'range.unknown_partition')
      throw new UsageError(`${command}: ${error.message}`);
    throw error;
  }
}

function readLetters(
  kafka: Kafka,
  topic: string,
  groupId: string,
  ranges: PartitionRange[],
  signal: AbortSignal | undefined,
  handle: (letters: DeadLetterRecord[]) => Promise<number | undefined>,
) {
  return readDeadLetters({ kafka, topic, groupId, ranges, signal, onLetters: handle });
}

/* ------------------------------------------- list ------------------------------------------- */

function byTime(a: ListedLetter, b: ListedLetter): number {
  return (
    a.timestamp - b.timestamp ||
    a.dlq.partition - b.dlq.partition ||
    Number(BigInt(a.dlq.offset) - BigInt(b.dlq.offset))
  );
}

async function listDeadLetters(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    args,
    {
      code: { type: 'string' },
      since: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    },
    true,
  );
  if (positionals.length > 0) throw new UsageError('dlq list: takes no arguments, only options');
  const codes = parseCodes(values.code, 'dlq list');
  const from = sinceBound(values.since, 'dlq list');
  const limit =
    values.limit === undefined ? 50 : parseCount(values.limit, 'dlq list: --limit', 1, 10_000);

  const { config, kafka, admin, groupId } = await connectKafka('list', false);
  const topic = config.topics.deadLetter;
  try {
    const ranges = await dlqRanges(admin, topic, from, 'dlq list');
    let latest: ListedLetter[] = [];
    let matching = 0;
    const byCode = new Map<string, number>();
    await readLetters(kafka, topic, groupId, ranges, undefined, async (letters) => {
      for (const letter of letters) {
        if (codes && !codes.has(letter.errorCode ?? '')) continue;
        matching++;
        const code = letter.errorCode ?? '(none)';
        byCode.set(code, (byCode.get(code) ?? 0) + 1);
        latest.push(listed(letter));
      }
      // Keeps memory to the letters that can still be among the latest `limit`.
      if (latest.length > 2 * limit) latest = latest.sort(byTime).slice(-limit);
      return undefined;
    });
    latest = latest.sort(byTime).slice(-limit);
    await annotateRedriven(config, latest);

    if (values.json) {
      for (const letter of latest) {
        const { dlq: _dlq, timestamp: _timestamp, ...fields } = letter;
        process.stdout.write(`${terminalSafeJson(fields)}\n`);
      }
    } else {
      printLetters(latest);
      const counts = [...byCode.entries()]
        .map(([code, count]) => `${terminalSafe(code)} ${count}`)
        .join(', ');
      process.stderr.write(
        `${matching} dead letter(s)${matching > 0 ? `: ${counts}` : ''}` +
          `${matching > latest.length ? `; the latest ${latest.length} shown (--limit)` : ''}\n`,
      );
    }
    return 0;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** With DATABASE_URL set, says which of them were redriven already. */
async function annotateRedriven(config: Config, letters: ListedLetter[]): Promise<void> {
  if (config.database.url === '' || letters.length === 0) return;
  const database = connectDatabase(config.database, {
    poolMax: 1,
    applicationName: 'customer-sync-dlq',
    timeouts: config.database.timeouts,
  });
  try {
    const ledger = createRedriveLedger(database.db, { runId: '', targetTopic: '' });
    const redriven = await ledger.redriven(letters.map((letter) => letter.dlq));
    for (const letter of letters) letter.redriven = redriven.has(letterPositionKey(letter.dlq));
  } finally {
    await database.close();
  }
}

/* ------------------------------------------- show ------------------------------------------- */

async function showDeadLetter(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    args,
    { reveal: { type: 'boolean' }, json: { type: 'boolean' } },
    true,
  );
  const [where, ...extra] = positionals;
  const match = /^(\d{1,5}):(\d{1,19})$/.exec(where ?? '');
  if (match === null || extra.length > 0)
    throw new UsageError('dlq show: expected one <partition:offset>, e.g. dlq show 0:42');
  const partition = Number(match[1]);
  const offset = BigInt(match[2] as string);

  const { config, kafka, admin, groupId } = await connectKafka('show', false);
  const topic = config.topics.deadLetter;
  try {
    const ranges = await dlqRanges(admin, topic, { kind: 'earliest' }, 'dlq show', {
      partition,
      offset,
    });
    const range = ranges.find((candidate) => candidate.partition === partition);
    if (range === undefined || range.start !== offset || range.end !== offset + 1n) {
      const all = await admin.fetchTopicOffsets(topic);
      const held = all.find((entry) => entry.partition === partition);
      throw new UsageError(
        `dlq show: no dead letter at ${partition}:${offset}` +
          (held
            ? ` (partition ${partition} holds offsets ${held.low} to ${BigInt(held.high) - 1n})`
            : ''),
      );
    }
    let found: DeadLetterRecord | undefined;
    await readLetters(kafka, topic, groupId, ranges, undefined, async (letters) => {
      found ??= letters[0];
      return undefined;
    });
    if (found === undefined)
      throw new UsageError(`dlq show: no dead letter at ${partition}:${offset}`);
    printLetter(found, values.reveal === true, values.json === true);
    return 0;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/* ------------------------------------------ redrive ------------------------------------------ */

async function redrive(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    args,
    {
      code: { type: 'string' },
      since: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'include-failing': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    true,
  );
  if (positionals.length > 0) throw new UsageError('dlq redrive: takes no arguments, only options');
  const codes = parseCodes(values.code, 'dlq redrive');
  const from = sinceBound(values.since, 'dlq redrive');
  const dryRun = values['dry-run'] === true;

  const { config, logger, kafka, admin, groupId } = await connectKafka('redrive', true);
  const runId = randomUUID();
  const deadLetterTopic = config.topics.deadLetter;
  const targetTopic = config.topics.updateRequested;
  const database = connectDatabase(config.database, {
    poolMax: 2,
    applicationName: 'customer-sync-dlq-redrive',
    timeouts: {
      ...config.database.timeouts,
      // Its transaction waits for Kafka to acknowledge the sends (kafkajs retries for up to a
      // few minutes). Ended past this, it rolls back; a rerun re-sends those letters, which
      // the service sees as duplicates (the ledger's at-least-once).
      idleInTransactionSessionTimeoutMs: 300_000,
    },
  });
  const producer = createProducer(kafka);
  const interruption = stopOnInterrupt('dlq redrive');
  try {
    const ranges = await dlqRanges(admin, deadLetterTopic, from, 'dlq redrive');
    if (!dryRun) await producer.connect();
    // The tenant configuration as it is now: the fix a redrive follows is usually here.
    const tenants = new Map<string, TenantConfiguration>(
      (await createTenantRepository(database.db).list()).map((tenant) => [tenant.tenantId, tenant]),
    );
    const { decoder } = await createMessageFormats(config, createMetrics(), logger);
    const progress = createProgress('dlq redrive', Number(messagesIn(ranges)));
    process.stderr.write(
      `dlq redrive ${runId}${dryRun ? ' (dry run)' : ''}: from ${deadLetterTopic} to ${targetTopic}\n`,
    );

    const report = await redriveDeadLetters<DeadLetterRecord>({
      read: (handle) =>
        readLetters(kafka, deadLetterTopic, groupId, ranges, interruption.signal, handle),
      positionOf: (letter) => letter.position,
      errorCodeOf: (letter) => letter.errorCode,
      selects: (letter) => codes === undefined || codes.has(letter.errorCode ?? ''),
      async check(letter) {
        const decoded = await decoder.decode(originalMessageOf(letter));
        if (!decoded.ok) return decoded;
        const failure = checkTenantRules(decoded.request, tenants.get(decoded.request.tenantId));
        return failure ? { ok: false, failure } : { ok: true, eventId: decoded.request.eventId };
      },
      ledger: createRedriveLedger(database.db, { runId, targetTopic }),
      async send(entries) {
        if (entries.length === 0) return;
        const at = new Date();
        await producer.send({
          topic: targetTopic,
          messages: entries.map((entry) => redriveMessage(entry.letter, { at, runId })),
          compression: COMPRESSION_TYPE_OF[config.kafka.compression],
        });
      },
      dryRun,
      includeFailing: values['include-failing'] === true,
      signal: interruption.signal,
      onProgress: (current) => progress.update(current.read, `${current.sent} sent`),
    });
    progress.finish(
      report.completed
        ? `${report.read} dead letter(s) read`
        : `interrupted after ${report.read} dead letter(s); what was sent is recorded, rerun to go on`,
    );
    printRedriveReport(report, { runId, dryRun, targetTopic, json: values.json === true });
    return report.completed ? 0 : EXIT_INTERRUPTED;
  } finally {
    interruption.dispose();
    await producer.disconnect().catch(() => {});
    await database.close();
    await admin.disconnect().catch(() => {});
  }
}
