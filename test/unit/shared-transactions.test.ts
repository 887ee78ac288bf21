import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AppliedBatch, UpdateOutcome } from '../../src/application/apply-update-batch.ts';
import type { CustomerUpdateRequest } from '../../src/contracts/customer-update-requested.ts';
import { sharingTransactions } from '../../src/messaging/consumer/shared-transactions.ts';

function requests(prefix: string, count: number): CustomerUpdateRequest[] {
  return Array.from({ length: count }, (_, index) => ({ eventId: `${prefix}-${index}` }) as never);
}

/**
 * A database that records each transaction's event ids; events whose id contains "same" are
 * unchanged, the others applied; a transaction with "poison" in it is rejected for its content.
 */
function recordingDatabase() {
  const transactions: string[][] = [];
  const apply = async (batch: CustomerUpdateRequest[], signal?: AbortSignal) => {
    transactions.push(batch.map((request) => request.eventId));
    await new Promise((resolve) => setTimeout(resolve, 5));
    signal?.throwIfAborted();
    if (batch.some((request) => request.eventId.includes('poison')))
      throw Object.assign(new Error('new row violates check constraint'), { code: '23514' });
    const outcomes: UpdateOutcome[] = batch.map((request) =>
      request.eventId.includes('same')
        ? { kind: 'unchanged' }
        : { kind: 'applied', changedFields: [], staleFields: [] },
    );
    return { outcomes, announced: outcomes.filter((o) => o.kind === 'applied').length };
  };
  return { transactions, apply };
}

const kinds = (batch: AppliedBatch) => batch.outcomes.map((outcome) => outcome.kind);

describe('partitions sharing transactions (shared-transactions.ts)', () => {
  it('applies chunks that arrive together in one transaction and gives each chunk its own outcomes, in its order', async () => {
    const database = recordingDatabase();
    const apply = sharingTransactions(database.apply, { maxRequests: 500, maxTransactions: 4 });
    const [a, b, c] = await Promise.all([
      apply(requests('a', 3)),
      apply([...requests('b-same', 2), ...requests('b', 1)]),
      apply(requests('c', 1)),
    ]);
    assert.deepEqual(database.transactions, [
      ['a-0', 'a-1', 'a-2', 'b-same-0', 'b-same-1', 'b-0', 'c-0'],
    ]);
    assert.deepEqual(kinds(a), ['applied', 'applied', 'applied']);
    assert.deepEqual(kinds(b), ['unchanged', 'unchanged', 'applied']);
    assert.deepEqual(kinds(c), ['applied']);
    assert.deepEqual(
      [a.announced, b.announced, c.announced],
      [3, 1, 1],
      "each chunk's announcements are its own",
    );
  });

  it('never puts more than maxRequests into one transaction; a full chunk goes alone', async () => {
    const database = recordingDatabase();
    const apply = sharingTransactions(database.apply, { maxRequests: 4, maxTransactions: 4 });
    await Promise.all([
      apply(requests('full', 4)),
      apply(requests('x', 3)),
      apply(requests('y', 2)),
      apply(requests('z', 1)),
    ]);
    const sizes = database.transactions.map((transaction) => transaction.length);
    assert.deepEqual(sizes, [4, 3, 3], JSON.stringify(database.transactions));
    assert.deepEqual(database.transactions[2], ['y-0', 'y-1', 'z-0']);
  });

  it('a chunk that arrives alone is applied alone, in the next turn of the event loop', async () => {
    const database = recordingDatabase();
    const apply = sharingTransactions(database.apply, { maxRequests: 500, maxTransactions: 4 });
    assert.deepEqual(kinds(await apply(requests('only', 2))), ['applied', 'applied']);
    assert.deepEqual(kinds(await apply(requests('later', 1))), ['applied']);
    assert.deepEqual(database.transactions, [['only-0', 'only-1'], ['later-0']]);
  });

  it('when the shared transaction fails, each chunk is applied on its own: only the poisoned one fails', async () => {
    const database = recordingDatabase();
    const apply = sharingTransactions(database.apply, { maxRequests: 500, maxTransactions: 4 });
    const [clean, poisoned] = await Promise.allSettled([
      apply(requests('clean', 2)),
      apply([...requests('ok', 1), ...requests('poison', 1)]),
    ]);
    assert.equal(clean.status, 'fulfilled');
    assert.deepEqual(kinds((clean as PromiseFulfilledResult<AppliedBatch>).value), [
      'applied',
      'applied',
    ]);
    assert.equal(poisoned.status, 'rejected');
    assert.equal((poisoned as PromiseRejectedResult).reason.code, '23514');
    assert.deepEqual(database.transactions, [
      ['clean-0', 'clean-1', 'ok-0', 'poison-0'],
      ['clean-0', 'clean-1'],
      ['ok-0', 'poison-0'],
    ]);
  });

  it('an abandoned attempt abandons the shared transaction; the other chunks are applied without it', async () => {
    const database = recordingDatabase();
    const apply = sharingTransactions(database.apply, { maxRequests: 500, maxTransactions: 4 });
    const abandoned = new AbortController();
    const both = Promise.allSettled([
      apply(requests('kept', 1)),
      apply(requests('abandoned', 1), abandoned.signal),
    ]);
    setTimeout(() => abandoned.abort(new Error('attempt timed out')), 1);
    const [kept, gone] = await both;
    assert.equal(kept.status, 'fulfilled');
    assert.equal(gone.status, 'rejected');
    assert.match(String((gone as PromiseRejectedResult).reason), /attempt timed out/);
    assert.deepEqual(
      database.transactions,
      [['kept-0', 'abandoned-0'], ['kept-0']],
      'the abandoned chunk is not applied again',
    );
  });

  it('an attempt abandoned before it is shared goes alone and fails at once', async () => {
    const database = recordingDatabase();
    const apply = sharingTransactions(database.apply, { maxRequests: 500, maxTransactions: 4 });
    const abandoned = AbortSignal.abort(new Error('attempt timed out'));
    const [kept, gone] = await Promise.allSettled([
      apply(requests('kept', 1)),
      apply(requests('abandoned', 1), abandoned),
    ]);
    assert.equal(kept.status, 'fulfilled');
    assert.equal(gone.status, 'rejected');
    assert.deepEqual(database.transactions, [['abandoned-0'], ['kept-0']]);
  });

  it('a failure worth retrying reaches every chunk at once, and nothing is redone behind their backoff', async () => {
    const transactions: number[] = [];
    const apply = sharingTransactions(
      async (batch) => {
        transactions.push(batch.length);
        throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
      },
      { maxRequests: 500, maxTransactions: 4 },
    );
    const results = await Promise.allSettled([apply(requests('a', 2)), apply(requests('b', 1))]);
    assert.deepEqual(
      results.map((result) => result.status === 'rejected' && result.reason.code),
      ['ECONNREFUSED', 'ECONNREFUSED'],
    );
    assert.deepEqual(transactions, [3], 'one shared attempt, not one more per chunk');
  });

  it("the shared transaction finds each event's trace context in its own chunk", async () => {
    const seen: Array<string | undefined> = [];
    const apply = sharingTransactions(
      async (batch, _signal, contextOf) => {
        for (const request of batch) seen.push(contextOf?.(request.eventId)?.traceparent);
        return { outcomes: batch.map(() => ({ kind: 'unchanged' }) as const), announced: 0 };
      },
      { maxRequests: 500, maxTransactions: 4 },
    );
    const contextOf = (prefix: string) => (eventId: string) =>
      eventId.startsWith(prefix) ? { traceparent: `from-${prefix}` } : undefined;
    await Promise.all([
      apply(requests('a', 1), undefined, contextOf('a')),
      apply(requests('b', 1)),
      apply(requests('c', 1), undefined, contextOf('c')),
    ]);
    assert.deepEqual(seen, ['from-a', undefined, 'from-c']);
  });

  it('has at most maxTransactions in flight; the others wait their turn, in order', async () => {
    let inFlight = 0;
    let most = 0;
    const started: string[] = [];
    const apply = sharingTransactions(
      async (batch) => {
        started.push(batch[0]?.eventId ?? '');
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        return { outcomes: batch.map(() => ({ kind: 'unchanged' }) as const), announced: 0 };
      },
      { maxRequests: 3, maxTransactions: 2 },
    );
    // Full chunks go alone: five transactions asked for at once.
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((prefix) => apply(requests(prefix, 3))));
    assert.equal(most, 2);
    assert.deepEqual(started, ['a-0', 'b-0', 'c-0', 'd-0', 'e-0']);
  });
});
