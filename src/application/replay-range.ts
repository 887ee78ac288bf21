import type { ErrorCode } from '../contracts/error-codes.ts';
import type { ChangedField } from '../domain/customer-record.ts';
import { canRetry } from '../errors.ts';
import type { MessageOutcome, MessageOutcomeKind } from './message-outcome.ts';
import { type BackoffSettings, backoffDelayMs, sleep } from './retry-policy.ts';

/** Messages of one partition, in offset order, as the range reader hands them out. */
export interface ReplayBatch<Message> {
  partition: number;
  messages: Message[];
  /** keeps the reader's session alive during long work */
  heartbeat(): Promise<void>;
}

export interface RangeReadOutcome {
  completed: boolean;
  /** per partition, the first offset not replayed */
  positions: Map<number, bigint>;
}

/** The ports of a replay: a reader of the range, and the service's own chunk processing. */
export interface ReplayRangeOptions<Message> {
  /**
   * Reads the range once, in order per partition, and stops at its end. The handler returns
   * how many messages of the batch it finished; fewer means "stop here".
   */
  read(
    handle: (batch: ReplayBatch<Message>) => Promise<number | undefined>,
  ): Promise<RangeReadOutcome>;
  /** exactly what the service does with a chunk: decode, apply, dead-letter (SPEC §4.2–4.4) */
  processChunk(partition: number, messages: Message[]): Promise<MessageOutcome[]>;
  /**
   * Given a failure of processChunk, gets ready so that the same chunk can be tried again at
   * once (e.g. loads an index the apply path asked for); false when it is not such a failure.
   */
  prepareForRetry?(error: unknown): Promise<boolean>;
  chunkSize: number;
  retry: BackoffSettings;
  signal: AbortSignal;
  onProgress?(report: ReplayReport): void;
  onRetry?(failure: { attempt: number; delayMs: number; error: unknown }): void;
}

/** What a replay did, message by message, in the service's own vocabulary. */
export interface ReplayReport {
  read: number;
  outcomes: Record<MessageOutcomeKind, number>;
  /** dead letters by error code */
  deadLetterCodes: Partial<Record<ErrorCode, number>>;
  /** how many applied updates changed each field */
  changedFields: Partial<Record<ChangedField, number>>;
  completed: boolean;
  positions: Map<number, bigint>;
}

export function emptyReplayReport(): ReplayReport {
  return {
    read: 0,
    outcomes: { applied: 0, unchanged: 0, duplicate: 0, stale: 0, 'dead-lettered': 0, skipped: 0 },
    deadLetterCodes: {},
    changedFields: {},
    completed: false,
    positions: new Map(),
  };
}

export function countOutcome(report: ReplayReport, outcome: MessageOutcome): void {
  report.read++;
  report.outcomes[outcome.kind]++;
  if (outcome.kind === 'dead-lettered') {
    const code = outcome.failure.code;
    report.deadLetterCodes[code] = (report.deadLetterCodes[code] ?? 0) + 1;
  } else if (outcome.kind === 'applied') {
    for (const field of outcome.changedFields)
      report.changedFields[field] = (report.changedFields[field] ?? 0) + 1;
  }
}

/**
 * Re-runs a fixed range of customer.update.requested through the service's own apply path
 * and stops at its end. Safe to run at any time, and to rerun after any interruption, because
 * of SPEC §4.2 (an event already recorded changes nothing and emits nothing) and §4.3 (the
 * result does not depend on order or repetition). Like the consumer loop, it retries a
 * transient failure of a chunk with backoff and never skips one (SPEC §4.5).
 */
export async function replayRange<Message>(
  options: ReplayRangeOptions<Message>,
): Promise<ReplayReport> {
  const report = emptyReplayReport();

  async function processUntilDone(
    batch: ReplayBatch<Message>,
    messages: Message[],
  ): Promise<MessageOutcome[] | undefined> {
    for (let attempt = 0; ; ) {
      try {
        return await options.processChunk(batch.partition, messages);
      } catch (error) {
        // Stopping: the chunk is not counted; a rerun finds what it committed as duplicates.
        if (options.signal.aborted) return undefined;
        if (await options.prepareForRetry?.(error)) continue;
        if (!canRetry(error)) throw error;
        const delayMs = backoffDelayMs(attempt, options.retry);
        options.onRetry?.({ attempt, delayMs, error });
        attempt++;
        const deadline = Date.now() + delayMs;
        while (Date.now() < deadline && !options.signal.aborted) {
          await sleep(Math.min(1_000, deadline - Date.now()), options.signal);
          await batch.heartbeat().catch(() => {});
        }
        if (options.signal.aborted) return undefined;
      }
    }
  }

  const read = await options.read(async (batch) => {
    let handled = 0;
    for (let start = 0; start < batch.messages.length; start += options.chunkSize) {
      if (options.signal.aborted) return handled;
      const messages = batch.messages.slice(start, start + options.chunkSize);
      const outcomes = await processUntilDone(batch, messages);
      if (outcomes === undefined) return handled;
      for (const outcome of outcomes) countOutcome(report, outcome);
      handled += messages.length;
      options.onProgress?.(report);
      await batch.heartbeat().catch(() => {});
    }
    return handled;
  });
  report.completed = read.completed;
  report.positions = read.positions;
  return report;
}
