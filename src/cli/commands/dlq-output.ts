/** What the dlq commands print: the list, one letter, and a redrive's report. */
import type { RedriveReport } from '../../application/redrive-dead-letters.ts';
import {
  type DeadLetterRecord,
  headerText,
  positionText,
} from '../../messaging/dead-letters/dead-letter-records.ts';
import { alignedTable } from '../aligned-table.ts';
import { terminalSafe, terminalSafeJson } from '../terminal-text.ts';

export interface ListedLetter {
  position: string;
  timestamp: number;
  failedAt: string | undefined;
  code: string | undefined;
  path: string | undefined;
  message: string | undefined;
  key: string | null;
  original: string | undefined;
  replayRunId: string | undefined;
  redriven?: boolean;
  dlq: DeadLetterRecord['position'];
}

export function listed(letter: DeadLetterRecord): ListedLetter {
  return {
    position: positionText(letter.position),
    timestamp: letter.timestamp,
    failedAt: letter.failedAt,
    code: letter.errorCode,
    path: letter.errorPath,
    message: letter.errorMessage,
    key: letter.key?.toString('utf8') ?? null,
    original: letter.original
      ? `${letter.original.topic}:${letter.original.partition}:${letter.original.offset}`
      : undefined,
    replayRunId: letter.replayRunId,
    dlq: letter.position,
  };
}

export function printLetters(letters: ListedLetter[]): void {
  const rows = [
    ['POSITION', 'FAILED AT', 'ERROR CODE', 'PATH', 'KEY', 'REDRIVEN'],
    // Everything but the position and the redrive mark was written by whoever produced to the
    // DLQ topic: shown escaped (terminal-text.ts).
    ...letters.map((letter) => [
      letter.position,
      terminalSafe(letter.failedAt ?? '-'),
      terminalSafe(letter.code ?? '-'),
      terminalSafe(letter.path ?? '-'),
      terminalSafe(letter.key ?? '-'),
      letter.redriven === undefined ? '-' : letter.redriven ? 'yes' : 'no',
    ]),
  ];
  for (const line of alignedTable(rows)) process.stdout.write(`${line}\n`);
}

export function printLetter(letter: DeadLetterRecord, reveal: boolean, json: boolean): void {
  const originalHeaders = Object.fromEntries(
    Object.entries(letter.originalHeaders).map(([name, value]) => [
      name,
      reveal ? (headerText(value) ?? '') : '[hidden: --reveal]',
    ]),
  );
  const payload = reveal ? payloadText(letter.value) : undefined;
  const size = letter.value?.length ?? 0;
  if (json) {
    process.stdout.write(
      `${terminalSafeJson({
        position: positionText(letter.position),
        topic: letter.position.topic,
        key: letter.key?.toString('utf8') ?? null,
        errorCode: letter.errorCode,
        errorMessage: letter.errorMessage,
        errorPath: letter.errorPath,
        original: letter.original,
        failedAt: letter.failedAt,
        serviceVersion: letter.serviceVersion,
        replayRunId: letter.replayRunId,
        headers: originalHeaders,
        payloadBytes: size,
        ...(reveal ? { payload } : {}),
      })}\n`,
    );
    return;
  }
  const original = letter.original;
  const lines: Array<[string, string | undefined]> = [
    ['dead letter', `${letter.position.topic} ${positionText(letter.position)}`],
    ['key', letter.key?.toString('utf8') ?? '(none)'],
    ['error.code', letter.errorCode],
    ['error.message', letter.errorMessage],
    ['error.path', letter.errorPath],
    [
      'original',
      original
        ? `${original.topic} ${original.partition}:${original.offset}` +
          (original.timestamp ? ` at ${timestampText(original.timestamp)}` : '')
        : undefined,
    ],
    ['failed.at', letter.failedAt],
    ['service.version', letter.serviceVersion],
    ['replay.run-id', letter.replayRunId],
    ...Object.entries(originalHeaders).map(
      ([name, value]) => [`header ${name}`, value] as [string, string],
    ),
    [
      'payload',
      reveal
        ? `${size} bytes:`
        : `${size} bytes (hidden: it may hold personal data; --reveal shows it)`,
    ],
  ];
  // Every name and value here but the first line's came from the DLQ topic's bytes.
  for (const [name, value] of lines) {
    if (value !== undefined)
      process.stdout.write(`${terminalSafe(name).padEnd(16)} ${terminalSafe(value)}\n`);
  }
  if (reveal) process.stdout.write(`${terminalSafePayload(payload ?? '')}\n`);
}

/** A header's epoch milliseconds as a time, or the header as it is when it is not one. */
function timestampText(text: string): string {
  const date = new Date(Number(text));
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}

/** A revealed payload keeps its line breaks (pretty JSON); any other control is escaped. */
function terminalSafePayload(text: string): string {
  return text
    .split('\n')
    .map((line) => terminalSafe(line))
    .join('\n');
}

/** JSON pretty-printed, other UTF-8 as it is, anything else as base64. */
function payloadText(value: Buffer | null): string {
  if (value === null) return '(null)';
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(value);
  } catch {
    return `base64:${value.toString('base64')}`;
  }
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export function printRedriveReport(
  report: RedriveReport,
  context: { runId: string; dryRun: boolean; targetTopic: string; json: boolean },
): void {
  if (context.json) {
    process.stdout.write(
      `${JSON.stringify({ runId: context.runId, dryRun: context.dryRun, ...report })}\n`,
    );
    return;
  }
  const failing = Object.entries(report.wouldFailAgain)
    .map(([code, count]) => `${code} ${count}`)
    .join(', ');
  const lines = [
    context.dryRun ? 'dry run: nothing was sent or recorded.' : '',
    `chosen            ${report.selected} of ${report.read}`,
    `${context.dryRun ? 'would send' : 'sent'}`.padEnd(18) +
      `${report.sent} to ${context.targetTopic}`,
    `already redriven  ${report.alreadyRedriven} (not sent again)`,
    `would fail again  ${Object.values(report.wouldFailAgain).reduce((sum, count) => sum + count, 0)}` +
      (failing ? `   ${failing}` : ''),
    report.heldBack > 0
      ? `held back         ${report.heldBack} (fix the cause and redrive again, or --include-failing)`
      : '',
  ].filter((line) => line !== '');
  process.stdout.write(`${lines.join('\n')}\n`);
}
