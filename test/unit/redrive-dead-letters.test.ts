import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type LetterPosition,
  letterPositionKey,
  type RedriveEntry,
  type RedriveLedger,
  type RedriveVerdict,
  redriveDeadLetters,
} from '../../src/application/redrive-dead-letters.ts';

interface Letter {
  offset: string;
  code: string;
  /** what the service would make of it now */
  verdict: RedriveVerdict;
}

const passes = (eventId: string): RedriveVerdict => ({ ok: true, eventId });
const failsWith = (code: 'tenant.unknown' | 'data.unknown_field'): RedriveVerdict => ({
  ok: false,
  failure: { code, message: 'still wrong' },
});

function inMemoryLedger() {
  const recorded = new Set<string>();
  const ledger: RedriveLedger = {
    redriven: async (positions) =>
      new Set(positions.map(letterPositionKey).filter((key) => recorded.has(key))),
    async recordAndSend(entries, send) {
      const fresh = entries.filter((entry) => !recorded.has(letterPositionKey(entry.position)));
      await send(fresh); // a failed send records nothing
      for (const entry of fresh) recorded.add(letterPositionKey(entry.position));
      return fresh;
    },
  };
  return { ledger, recorded };
}

async function redrive(
  letters: Letter[],
  ledger: RedriveLedger,
  options: { dryRun?: boolean; includeFailing?: boolean; codes?: string[] } = {},
) {
  const sent: Array<RedriveEntry<Letter>> = [];
  const report = await redriveDeadLetters<Letter>({
    read: async (handle) => {
      await handle(letters);
      return { completed: true, positions: new Map() };
    },
    positionOf: (letter): LetterPosition => ({ topic: 'dlq', partition: 0, offset: letter.offset }),
    errorCodeOf: (letter) => letter.code,
    selects: (letter) => options.codes === undefined || options.codes.includes(letter.code),
    check: async (letter) => letter.verdict,
    ledger,
    send: async (entries) => {
      sent.push(...entries);
    },
    dryRun: options.dryRun ?? false,
    includeFailing: options.includeFailing ?? false,
    signal: new AbortController().signal,
  });
  return { report, sent };
}

const LETTERS: Letter[] = [
  { offset: '0', code: 'tenant.task_type_not_allowed', verdict: passes('e-0') },
  { offset: '1', code: 'tenant.unknown', verdict: failsWith('tenant.unknown') },
  { offset: '2', code: 'tenant.task_type_not_allowed', verdict: passes('e-2') },
];

describe('redriving dead letters', () => {
  it('sends the letters that would now apply and holds back the ones that would fail again', async () => {
    const { ledger } = inMemoryLedger();
    const { report, sent } = await redrive(LETTERS, ledger);
    assert.deepEqual(
      sent.map((entry) => [entry.position.offset, entry.eventId]),
      [
        ['0', 'e-0'],
        ['2', 'e-2'],
      ],
    );
    assert.deepEqual(
      { sent: report.sent, heldBack: report.heldBack, wouldFailAgain: report.wouldFailAgain },
      { sent: 2, heldBack: 1, wouldFailAgain: { 'tenant.unknown': 1 } },
    );
  });

  it('sends nothing the second time, but still sends a held-back letter once it is fixed', async () => {
    const { ledger } = inMemoryLedger();
    await redrive(LETTERS, ledger);
    const second = await redrive(LETTERS, ledger);
    assert.deepEqual(second.sent, []);
    assert.equal(second.report.alreadyRedriven, 2);

    const fixed = LETTERS.map((letter) => ({ ...letter, verdict: passes(`e-${letter.offset}`) }));
    const third = await redrive(fixed, ledger);
    assert.deepEqual(
      third.sent.map((entry) => entry.position.offset),
      ['1'],
    );
  });

  it('in a dry run, reports what it would send and sends and records nothing', async () => {
    const { ledger, recorded } = inMemoryLedger();
    const { report, sent } = await redrive(LETTERS, ledger, { dryRun: true });
    assert.equal(report.sent, 2);
    assert.deepEqual(sent, []);
    assert.equal(recorded.size, 0);
  });

  it('selects by code, and sends failing letters too when asked', async () => {
    const { ledger } = inMemoryLedger();
    const chosen = await redrive(LETTERS, ledger, {
      codes: ['tenant.unknown'],
      includeFailing: true,
    });
    assert.equal(chosen.report.selected, 1);
    assert.deepEqual(
      chosen.sent.map((entry) => [entry.position.offset, entry.eventId]),
      [['1', undefined]],
    );
    assert.equal(chosen.report.heldBack, 0);
    assert.deepEqual(chosen.report.wouldFailAgain, { 'tenant.unknown': 1 });
  });

  it('records nothing when the send fails, so a rerun sends them', async () => {
    const { ledger, recorded } = inMemoryLedger();
    await assert.rejects(
      redriveDeadLetters<Letter>({
        read: async (handle) => {
          await handle(LETTERS);
          return { completed: true, positions: new Map() };
        },
        positionOf: (letter) => ({ topic: 'dlq', partition: 0, offset: letter.offset }),
        errorCodeOf: (letter) => letter.code,
        selects: () => true,
        check: async (letter) => letter.verdict,
        ledger,
        send: async () => {
          throw new Error('Kafka is down');
        },
        dryRun: false,
        includeFailing: false,
        signal: new AbortController().signal,
      }),
      /Kafka is down/,
    );
    assert.equal(recorded.size, 0);
  });
});
