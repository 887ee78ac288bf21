import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { type Message, Partitioners } from 'kafkajs';
import { readEventLines } from '../../messaging/event-lines.ts';
import { createKafka } from '../../messaging/kafka-client.ts';
import { createLogger } from '../../observability/logger.ts';
import { loadCommandConfig } from '../load-command-config.ts';
import { createProgress } from '../progress.ts';
import { parseCommandLine, UsageError } from '../usage-error.ts';

export const produceHelp = `customer-sync produce --file <events.ndjson | -> [--topic T] [--continue-on-error]

Publishes events, one JSON object per line, to customer.update.requested (or --topic), keyed
<tenantId>:<externalId>. '--file -' reads standard input. A line that is not JSON is reported
with its line number; the lines before it are sent, nothing after it is, unless
--continue-on-error skips bad lines and goes on. Exit code 1 if any line was bad.`;

const SEND_BATCH = 500;

export async function produceCommand(args: string[]): Promise<number> {
  const { values } = parseCommandLine(args, {
    file: { type: 'string' },
    topic: { type: 'string' },
    'continue-on-error': { type: 'boolean' },
  });
  const file = values.file;
  if (file === undefined)
    throw new UsageError('produce: --file is required (use --file - for standard input)');
  if (file !== '-') {
    await access(file).catch(() => {
      throw new UsageError(`produce: cannot read --file ${file}`);
    });
  }
  const config = loadCommandConfig(['kafka']);
  const topic = values.topic ?? config.topics.updateRequested;
  const logger = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel });
  const producer = createKafka(config, logger, '-produce').producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const progress = createProgress('produce');
  let sent = 0;
  let bad = 0;
  let pending: Message[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    await producer.send({ topic, messages: pending });
    sent += pending.length;
    pending = [];
    progress.update(sent);
  };
  try {
    const input = file === '-' ? process.stdin : createReadStream(file);
    for await (const line of readEventLines(input)) {
      if (!line.ok) {
        bad++;
        process.stderr.write(`produce: line ${line.lineNumber} ${line.problem}\n`);
        if (values['continue-on-error']) continue;
        await flush();
        break;
      }
      pending.push({ key: line.key, value: line.value });
      if (pending.length >= SEND_BATCH) await flush();
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
  progress.finish(`${sent} sent to ${topic}${bad > 0 ? `, ${bad} bad line(s)` : ''}`);
  return bad > 0 ? 1 : 0;
}
