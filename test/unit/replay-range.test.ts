import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MessageOutcome } from '../../src/application/message-outcome.ts';
import { type ReplayBatch, replayRange } from '../../src/application/replay-range.ts';
import { CustomerSyncError } from '../../src/errors.ts';

type Message = { offset: number; outcome: MessageOutcome };

const applied: MessageOutcome = { kind: 'applied', changedFields: ['firstName'], staleFields: [] };
const duplicate: MessageOutcome = { kind: 'duplicate' };
const deadLettered: MessageOutcome = {
  kind: 'dead-lettered',
  failure: { code: 'tenant.unknown', message: 'tenantId is not a configured tenant' },
};

/** A reader of one partition that hands out the messages in batches, as the range reader does. */
function readerOf(messages: Message[], batchSize: number) {
  return async (handle: (batch: ReplayBatch<Message>) => Promise<number | undefined>) => {
    let position = 0;
    while (position < messages.length) {
      const batch = messages.slice(position, position + batchSize);
      const handled =
        (await handle({ partition: 0, messages: batch, heartbeat: async () => {} })) ??
        batch.length;
      position += handled;
      if (handled < batch.length)
        return { completed: false, positions: new Map([[0, BigInt(position)]]) };
    }
    return { completed: true, positions: new Map([[0, BigInt(position)]]) };
  };
}

const messages = (...outcomes: MessageOutcome[]) =>
  outcomes.map((outcome, offset) => ({ offset, outcome }));

describe('replaying a range', () => {
  it('processes the range in chunks and reports every outcome, by code and by field', async () => {
    const chunks: number[][] = [];
    const report = await replayRange<Message>({
      read: readerOf(messages(applied, duplicate, deadLettered, applied, duplicate), 4),
      processChunk: async (_partition, chunk) => {
        chunks.push(chunk.map((message) => message.offset));
        return chunk.map((message) => message.outcome);
      },
      chunkSize: 3,
      retry: { initialDelayMs: 1, maxDelayMs: 1 },
      signal: new AbortController().signal,
    });
    assert.deepEqual(chunks, [[0, 1, 2], [3], [4]]);
    assert.equal(report.completed, true);
    assert.equal(report.read, 5);
    assert.deepEqual(report.outcomes, {
      applied: 2,
      unchanged: 0,
      duplicate: 2,
      stale: 0,
      'dead-lettered': 1,
      skipped: 0,
    });
    assert.deepEqual(report.deadLetterCodes, { 'tenant.unknown': 1 });
    assert.deepEqual(report.changedFields, { firstName: 2 });
  });

  it('retries a chunk that failed transiently, and never skips it', async () => {
    let attempts = 0;
    const retried: number[] = [];
    const report = await replayRange<Message>({
      read: readerOf(messages(applied, applied), 10),
      processChunk: async (_partition, chunk) => {
        attempts++;
        if (attempts < 3)
          throw new CustomerSyncError('attempt.timed_out', 'the database did not answer', {
            canRetry: true,
          });
        return chunk.map((message) => message.outcome);
      },
      chunkSize: 10,
      retry: { initialDelayMs: 1, maxDelayMs: 2 },
      signal: new AbortController().signal,
      onRetry: ({ attempt }) => retried.push(attempt),
    });
    assert.deepEqual(retried, [0, 1]);
    assert.equal(report.outcomes.applied, 2);
  });

  it('lets the apply path ask for what it needs and tries the chunk again at once', async () => {
    const needed = new CustomerSyncError('replay.announced_index_needed', 'load it', {
      canRetry: true,
    });
    let loaded = false;
    const report = await replayRange<Message>({
      read: readerOf(messages(applied), 10),
      processChunk: async (_partition, chunk) => {
        if (!loaded) throw needed;
        return chunk.map((message) => message.outcome);
      },
      prepareForRetry: async (error) => {
        if (error !== needed) return false;
        loaded = true;
        return true;
      },
      chunkSize: 10,
      retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
      signal: new AbortController().signal,
    });
    assert.equal(report.outcomes.applied, 1);
  });

  it('stops on a failure that retrying cannot help', async () => {
    await assert.rejects(
      replayRange<Message>({
        read: readerOf(messages(applied), 10),
        processChunk: async () => {
          throw new CustomerSyncError('replay.dry_run_unshadowed_write', 'bug', {
            canRetry: false,
          });
        },
        chunkSize: 10,
        retry: { initialDelayMs: 1, maxDelayMs: 1 },
        signal: new AbortController().signal,
      }),
      /bug/,
    );
  });

  it('stops between chunks when interrupted, counting only the chunks that finished', async () => {
    const interrupt = new AbortController();
    const report = await replayRange<Message>({
      read: readerOf(messages(applied, applied, applied, applied), 4),
      processChunk: async (_partition, chunk) => {
        interrupt.abort(); // Ctrl-C while the first chunk is being applied
        return chunk.map((message) => message.outcome);
      },
      chunkSize: 2,
      retry: { initialDelayMs: 1, maxDelayMs: 1 },
      signal: interrupt.signal,
    });
    assert.equal(report.completed, false);
    assert.equal(report.read, 2);
    assert.deepEqual(report.positions, new Map([[0, 2n]]));
  });
});
