import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import type { DatabaseTransaction } from '../../src/persistence/database.ts';
import { cancelledBy, type SqlExecutor } from '../../src/persistence/prepared-sql.ts';

/**
 * A transaction's statements as postgres.js runs them: in the order sent, each settling after
 * the one before; `cancel()` fails the statement it is called on, as the server's 57014 does.
 */
function statementsInTurn() {
  const sent: Array<{ cancel: () => void; settle: () => void; cancelled: boolean }> = [];
  const execute = (<Row>() => {
    let settle = () => {};
    let fail = (_error: Error) => {};
    const pending = new Promise<Row[]>((resolve, reject) => {
      settle = () => resolve([]);
      fail = reject;
    });
    const statement = {
      cancelled: false,
      settle,
      cancel: () => {
        statement.cancelled = true;
        fail(new Error('canceling statement due to user request'));
      },
    };
    sent.push(statement);
    return Object.assign(pending, { cancel: statement.cancel });
  }) as unknown as SqlExecutor;
  return { sent, execute };
}

const tx = {} as DatabaseTransaction;

describe('cancelledBy: an abandoned transaction', () => {
  it('cancels the statement running, the oldest unsettled, and none queued behind it', async () => {
    const { sent, execute } = statementsInTurn();
    const abandon = new AbortController();
    const run = cancelledBy(abandon.signal, execute);
    const first = run(tx, sql`select 1`);
    const second = run(tx, sql`select 2`);
    const third = run(tx, sql`select 3`);
    sent[0]?.settle();
    await first;
    abandon.abort(new Error('abandoned'));
    assert.deepEqual(
      sent.map((statement) => statement.cancelled),
      [false, true, false],
    );
    await assert.rejects(second, /canceling statement/);
    sent[2]?.settle(); // the server fails it on its own (the transaction is aborted)
    await third;
  });

  it('refuses statements asked for after the abort, and leaves no listener behind', async () => {
    const { sent, execute } = statementsInTurn();
    const abandon = new AbortController();
    const run = cancelledBy(abandon.signal, execute);
    const done = run(tx, sql`select 1`);
    assert.equal(getEventListeners(abandon.signal, 'abort').length, 1);
    sent[0]?.settle();
    await done;
    assert.equal(getEventListeners(abandon.signal, 'abort').length, 0);
    abandon.abort(new Error('abandoned'));
    assert.equal(sent[0]?.cancelled, false, 'a settled statement is not touched');
    await assert.rejects(run(tx, sql`select 2`), /abandoned/);
    assert.equal(sent.length, 1);
  });
});
