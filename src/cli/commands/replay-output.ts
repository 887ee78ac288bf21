/** What `replay` prints: the plan on stderr before it starts, the report on stdout after. */
import type { ReplayReport } from '../../application/replay-range.ts';
import type { PartitionRange } from '../../messaging/kafka/topic-range.ts';
import type { Progress } from '../progress.ts';

/** What a replay did, beyond the use case's report: what it announced and dead-lettered. */
export interface ReplayResult {
  report: ReplayReport;
  dryRun: boolean;
  announced: { written: number; alreadyAnnounced: number };
  deadLetters: { alreadyInDlq: number };
}

/** The run, the topic and the offsets it is about to read, on stderr. */
export function printPlan(plan: {
  runId: string;
  topic: string;
  total: number;
  ranges: PartitionRange[];
  options: { dryRun: boolean; tenant?: string };
}): void {
  const { runId, topic, total, ranges, options } = plan;
  process.stderr.write(
    `replay ${runId}${options.dryRun ? ' (dry run)' : ''}: ${total} message(s) of ${topic}` +
      `${options.tenant ? `, tenant ${options.tenant} only` : ''}\n` +
      ranges
        .filter((range) => range.start < range.end)
        .map((range) => `  partition ${range.partition}: offsets ${range.start} to ${range.end}\n`)
        .join(''),
  );
}

export function printReport(
  result: ReplayResult,
  context: {
    runId: string;
    ranges: PartitionRange[];
    options: { json: boolean; tenant?: string };
    progress: Progress;
  },
): void {
  const { report } = result;
  const positions = context.ranges
    .filter((range) => range.start < range.end)
    .map((range) => ({
      partition: range.partition,
      start: range.start.toString(),
      end: range.end.toString(),
      reached: (report.positions.get(range.partition) ?? range.start).toString(),
    }));
  context.progress.finish(
    report.completed
      ? `${report.read} message(s) ${result.dryRun ? 'checked (dry run)' : 'replayed'}`
      : `interrupted after ${report.read} message(s); rerun the same command to finish ` +
          '(what was applied is recognised and skipped)',
  );
  if (context.options.json) {
    process.stdout.write(
      `${JSON.stringify({
        runId: context.runId,
        dryRun: result.dryRun,
        completed: report.completed,
        read: report.read,
        outcomes: report.outcomes,
        deadLetterCodes: report.deadLetterCodes,
        changedFields: report.changedFields,
        announced: result.announced,
        deadLetters: result.deadLetters,
        partitions: positions,
      })}\n`,
    );
    return;
  }
  const would = result.dryRun ? 'would be ' : '';
  const { outcomes } = report;
  const codes = Object.entries(report.deadLetterCodes)
    .map(([code, count]) => `${code} ${count}`)
    .join(', ');
  const fields = Object.entries(report.changedFields)
    .sort(([, a], [, b]) => (b ?? 0) - (a ?? 0))
    .map(([field, count]) => `${field} ${count}`)
    .join(', ');
  const lines = [
    result.dryRun ? 'dry run: nothing was written or sent. A replay now would do this:' : '',
    `applied        ${outcomes.applied}${fields ? `   fields changed: ${fields}` : ''}`,
    `unchanged      ${outcomes.unchanged}`,
    `duplicate      ${outcomes.duplicate}`,
    `stale          ${outcomes.stale}`,
    `dead-lettered  ${outcomes['dead-lettered']}${codes ? `   ${codes}` : ''}` +
      (result.deadLetters.alreadyInDlq > 0
        ? `; ${result.deadLetters.alreadyInDlq} already in the DLQ (${result.dryRun ? 'would not be' : 'not'} sent again)`
        : ''),
    ...(context.options.tenant ? [`skipped        ${outcomes.skipped}   other tenants`] : []),
    `customer.updated: ${result.announced.written} ${would}written to the outbox` +
      (result.announced.alreadyAnnounced > 0
        ? `, ${result.announced.alreadyAnnounced} already announced (not again)`
        : ''),
    ...(report.completed
      ? []
      : [
          `stopped at: ${positions.map((position) => `partition ${position.partition} offset ${position.reached}`).join(', ')}`,
        ]),
  ].filter((line) => line !== '');
  process.stdout.write(`${lines.join('\n')}\n`);
}
