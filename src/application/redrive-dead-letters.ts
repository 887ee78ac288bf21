import type { ValidationFailure } from '../contracts/error-codes.ts';
import type { RangeReadOutcome } from './replay-range.ts';

/** A dead letter's own coordinates on the DLQ topic: what the redrive ledger is keyed by. */
export interface LetterPosition {
  topic: string;
  partition: number;
  offset: string;
}

export function letterPositionKey(position: LetterPosition): string {
  return `${position.topic}\u0000${position.partition}\u0000${position.offset}`;
}

/** A dead letter sent back to the input topic by `dlq redrive` (table dlq_redrives). */
export interface RedriveRecord {
  redrivenAt: string;
  runId: string;
  /** the request's eventId, when the letter decoded */
  eventId: string | null;
}

/** What the service would make of a letter sent back now: its eventId, or why it fails. */
export type RedriveVerdict =
  | { ok: true; eventId: string }
  | { ok: false; failure: ValidationFailure };

export interface RedriveEntry<Letter> {
  letter: Letter;
  position: LetterPosition;
  errorCode: string | undefined;
  eventId: string | undefined;
}

/**
 * Postgres's memory of what was redriven (table dlq_redrives), so that a second redrive of the
 * same range sends nothing again.
 */
export interface RedriveLedger {
  /** the keys (letterPositionKey) of these positions that were redriven before */
  redriven(positions: LetterPosition[]): Promise<Set<string>>;
  /**
   * Records the entries and sends the ones nobody recorded first, in one step: the records
   * commit only after `send` succeeded, and a concurrent redrive of the same letters waits,
   * then finds them recorded. Returns what it sent.
   */
  recordAndSend<Letter>(
    entries: RedriveEntry<Letter>[],
    send: (entries: RedriveEntry<Letter>[]) => Promise<void>,
  ): Promise<RedriveEntry<Letter>[]>;
}

export interface RedriveOptions<Letter> {
  /** reads the selected range of the DLQ once; the handler returns how many it finished */
  read(handle: (letters: Letter[]) => Promise<number | undefined>): Promise<RangeReadOutcome>;
  positionOf(letter: Letter): LetterPosition;
  errorCodeOf(letter: Letter): string | undefined;
  /** the operator's selection (e.g. --code) */
  selects(letter: Letter): boolean;
  /** the service's decode, validation and tenant rules, as they stand now */
  check(letter: Letter): Promise<RedriveVerdict>;
  ledger: RedriveLedger;
  send(entries: RedriveEntry<Letter>[]): Promise<void>;
  dryRun: boolean;
  /** send letters that would fail again too (they come back to the DLQ) */
  includeFailing: boolean;
  signal: AbortSignal;
  onProgress?(report: RedriveReport): void;
}

export interface RedriveReport {
  /** letters in the range */
  read: number;
  /** letters the selection chose */
  selected: number;
  /** chosen, but redriven before: not sent again */
  alreadyRedriven: number;
  /** sent back to the input topic (in a dry run: would be) */
  sent: number;
  /** would fail validation again, by the code they would fail with */
  wouldFailAgain: Record<string, number>;
  /** of those, how many were held back (all of them, unless includeFailing) */
  heldBack: number;
  completed: boolean;
}

/**
 * SPEC §7 `dlq redrive`: sends dead letters back to the input topic once their cause is fixed.
 * Each letter is first checked against the service's rules as they stand now: the ones that
 * would be dead-lettered again are reported and held back (unless asked otherwise), so a
 * redrive never feeds the DLQ its own letters, and a later redrive, after the next fix, still
 * sends them. Letters the ledger knows were redriven are never sent twice.
 */
export async function redriveDeadLetters<Letter>(
  options: RedriveOptions<Letter>,
): Promise<RedriveReport> {
  const report: RedriveReport = {
    read: 0,
    selected: 0,
    alreadyRedriven: 0,
    sent: 0,
    wouldFailAgain: {},
    heldBack: 0,
    completed: false,
  };

  const read = await options.read(async (letters) => {
    if (options.signal.aborted) return 0;
    report.read += letters.length;
    const chosen = letters.filter((letter) => options.selects(letter));
    report.selected += chosen.length;
    const redriven = await options.ledger.redriven(chosen.map(options.positionOf));
    const toSend: RedriveEntry<Letter>[] = [];
    for (const letter of chosen) {
      const position = options.positionOf(letter);
      if (redriven.has(letterPositionKey(position))) {
        report.alreadyRedriven++;
        continue;
      }
      const verdict = await options.check(letter);
      if (!verdict.ok) {
        const code = verdict.failure.code;
        report.wouldFailAgain[code] = (report.wouldFailAgain[code] ?? 0) + 1;
        if (!options.includeFailing) {
          report.heldBack++;
          continue;
        }
      }
      toSend.push({
        letter,
        position,
        errorCode: options.errorCodeOf(letter),
        eventId: verdict.ok ? verdict.eventId : undefined,
      });
    }
    if (options.dryRun) {
      report.sent += toSend.length;
    } else if (toSend.length > 0) {
      const sent = await options.ledger.recordAndSend(toSend, options.send);
      report.sent += sent.length;
      report.alreadyRedriven += toSend.length - sent.length; // a concurrent redrive was first
    }
    options.onProgress?.(report);
    return undefined;
  });
  report.completed = read.completed;
  return report;
}
