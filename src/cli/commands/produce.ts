import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { CompressionTypes, Message, Producer } from 'kafkajs';
import { readEventLines } from '../../messaging/kafka/event-lines.ts';
import { COMPRESSION_TYPE_OF, createProducer } from '../../messaging/kafka/kafka-client.ts';
import { commandKafka, withAdmin } from '../command-kafka.ts';
import { EXIT_INTERRUPTED, stopOnInterrupt } from '../interrupt.ts';
import { loadCommandConfig } from '../load-command-config.ts';
import { createProgress, formatBytes } from '../progress.ts';
import { parseCount } from '../range-arguments.ts';
import { reachDependencies } from '../reach-dependencies.ts';
import { parseCommandLine, UsageError } from '../usage-error.ts';

export const produceHelp = `customer-sync produce --file <events.ndjson | -> [options]

Publishes events, one JSON object per line, to customer.update.requested (TOPIC_UPDATE_REQUESTED),
keyed <tenantId>:<externalId> so that each customer's events keep their order (SPEC §2).
A line that is JSON but not a valid event is still sent: the service dead-letters it, and
\`customer-sync dlq list\` shows why.

Options:
  --file <path | ->       the NDJSON file; '-' reads standard input
  --topic <name>          publish to this topic instead (it must exist)
  --continue-on-error     skip lines that are not JSON objects, report each, and go on
  --start-line <n>        skip the lines before line n (to resume an interrupted run)

A line that is not a JSON object is reported with its line number. Without
--continue-on-error the lines before it are sent and nothing after it is. Re-sending lines
that were already sent is harmless: the service recognises every event by its eventId.
Progress goes to stderr; Ctrl-C stops after the batch in flight and says where to resume.

Exit codes: 0 all sent, 1 a bad line or a failure, 2 bad arguments, 130 interrupted.`;

/** Lines per producer request: big enough to be fast, small enough to bound memory. */
const SEND_BATCH = 500;
/** Bad lines reported one by one; after that, only counted. */
const REPORTED_BAD_LINES = 100;

export async function produceCommand(args: string[]): Promise<number> {
  const { values } = parseCommandLine(args, {
    file: { type: 'string' },
    topic: { type: 'string' },
    'continue-on-error': { type: 'boolean' },
    'start-line': { type: 'string' },
  });
  const file = values.file;
  if (file === undefined)
    throw new UsageError('produce: --file is required (use --file - for standard input)');
  const startLine =
    values['start-line'] === undefined
      ? 1
      : parseCount(values['start-line'], 'produce: --start-line', 1, 2_000_000_000);
  const size = file === '-' ? undefined : await readableFileSize(file);
  const config = loadCommandConfig(['kafka']);
  await reachDependencies(config, ['kafka']);
  const topic = values.topic ?? config.topics.updateRequested;
  const { kafka } = commandKafka(config, 'produce');
  if (!(await withAdmin(kafka, (admin) => admin.listTopics())).includes(topic))
    throw new UsageError(`produce: topic ${topic} does not exist`);

  const producer = createProducer(kafka);
  await producer.connect();
  const interruption = stopOnInterrupt('produce');
  try {
    const input: Readable = file === '-' ? process.stdin : createReadStream(file);
    const result = await produceLines({
      input,
      producer,
      topic,
      compression: COMPRESSION_TYPE_OF[config.kafka.compression],
      startLine,
      continueOnError: values['continue-on-error'] === true,
      signal: interruption.signal,
      ...(size !== undefined ? { size } : {}),
    });
    return result;
  } finally {
    interruption.dispose();
    await producer.disconnect();
  }
}

async function produceLines(options: {
  input: Readable;
  producer: Producer;
  topic: string;
  compression: CompressionTypes;
  startLine: number;
  continueOnError: boolean;
  signal: AbortSignal;
  size?: number;
}): Promise<number> {
  const progress = createProgress(
    'produce',
    options.size,
    options.size !== undefined ? { format: formatBytes } : {},
  );
  let sent = 0;
  let bad = 0;
  let lastLine = 0;
  let stoppedAt: number | undefined;
  let pending: Message[] = [];
  let bytesRead = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    await options.producer.send({
      topic: options.topic,
      messages: pending,
      compression: options.compression,
    });
    sent += pending.length;
    pending = [];
  };

  for await (const line of readEventLines(options.input)) {
    if (options.signal.aborted) break;
    bytesRead = line.bytesRead;
    if (line.lineNumber < options.startLine) continue;
    if (!line.ok) {
      bad++;
      if (bad <= REPORTED_BAD_LINES)
        process.stderr.write(`produce: line ${line.lineNumber} ${line.problem}\n`);
      if (!options.continueOnError) {
        stoppedAt = line.lineNumber;
        break;
      }
      continue;
    }
    pending.push({ key: line.key, value: line.value });
    lastLine = line.lineNumber;
    if (pending.length >= SEND_BATCH) {
      await flush();
      const done = options.size !== undefined ? bytesRead : sent;
      progress.update(done, options.size !== undefined ? `${sent} sent` : 'sent');
    }
  }
  // Everything read before the stop is sent whole: the lines before a bad line, or before Ctrl-C.
  await flush();
  options.input.destroy(); // standard input would otherwise keep the process alive

  const badNote = bad > 0 ? `, ${bad} bad line(s)` : '';
  if (stoppedAt !== undefined) {
    progress.finish(
      `${sent} sent to ${options.topic}; stopped at line ${stoppedAt}: nothing after it was sent ` +
        `(fix it and rerun with --start-line ${stoppedAt}, or use --continue-on-error)`,
    );
    return 1;
  }
  if (options.signal.aborted) {
    progress.finish(
      `interrupted: ${sent} sent to ${options.topic}, up to line ${lastLine}; ` +
        `rerun with --start-line ${lastLine + 1} to send the rest`,
    );
    return EXIT_INTERRUPTED;
  }
  progress.finish(`${sent} sent to ${options.topic}${badNote}`);
  return bad > 0 ? 1 : 0;
}

async function readableFileSize(file: string): Promise<number | undefined> {
  const stats = await stat(file).catch(() => undefined);
  if (stats === undefined) throw new UsageError(`produce: cannot read --file ${file}`);
  if (stats.isDirectory()) throw new UsageError(`produce: --file ${file} is a directory`);
  // A pipe (`--file <(…)`) has no size to measure progress against.
  return stats.isFile() ? stats.size : undefined;
}
