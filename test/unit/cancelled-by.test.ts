import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import type { DatabaseTransaction } from '../../src/persistence/database.ts';
import { cancelledBy, type SqlExecutor } from '../../src/persistence/prepared-sql.ts';

interface Statement {
  /** cancel() was called on it: postgres.js sent the server a cancel request */
  cancelled: boolean;
  /** the server ran it to the end */
  succeed: () => void;
  /** the server failed it: cancelled, or the transaction already aborted */
  fail: () => void;
}

/**
 * A transaction's statements as the test's server answers them; each settles when the test
 * says, as the server would, in turn. cancel() only records the request: whether the server
 * acts on it is the test's to say.
 */
function statementsInTurn() {
  const sent: Statement[] = [];
  const execute = (<Row>() => {
    const statement = { cancelled: false } as Statement;
    const pending = new Promise<Row[]>((resolve, reject) => {
      statement.succeed = () => resolve([]);
      statement.fail = () => reject(new Error('canceling statement due to user request'));
    });
    sent.push(statement);
    return Object.assign(pending, {
      cancel: () => {
        statement.cancelled = true;
      },
    });
  }) as unknown as SqlExecutor;
  return { sent, execute };
}

const tx = {} as DatabaseTransaction;
const settle = () => new Promise((resolve) => setImmediate(resolve));
const cancelledOf = (sent: Statement[]) => sent.map((statement) => statement.cancelled);

/** Three statements of one transaction asked for at once, tied to `abandon`. */
function threeStatementsAsked() {
  const { sent, execute } = statementsInTurn();
  const abandon = new AbortController();
  const run = cancelledBy(abandon.signal, execute);
  const statements = [run(tx, sql`select 1`), run(tx, sql`select 2`), run(tx, sql`select 3`)];
  return { sent, abandon, statements, allSettled: Promise.allSettled(statements) };
}

describe('cancelledBy: an abandoned transaction', () => {
  it('cancels the statement running, the oldest unsettled, and none queued behind it', async () => {
    const { sent, abandon, statements, allSettled } = threeStatementsAsked();
    sent[0]?.succeed();
    await statements[0];
    abandon.abort(new Error('abandoned'));
    assert.deepEqual(cancelledOf(sent), [false, true, false]);
    sent[1]?.fail();
    sent[2]?.fail(); // the transaction is aborted: the server fails the rest on its own
    await allSettled;
    assert.deepEqual(cancelledOf(sent), [false, true, false]);
  });

  it('cancels the next in its turn when the server ignored the cancel (it came between two)', async () => {
    const { sent, abandon, allSettled } = threeStatementsAsked();
    abandon.abort(new Error('abandoned'));
    assert.deepEqual(cancelledOf(sent), [true, false, false]);
    sent[0]?.succeed(); // it had ended when the cancel came
    await settle();
    assert.deepEqual(cancelledOf(sent), [true, true, false]);
    sent[1]?.fail();
    await settle();
    sent[2]?.fail();
    await allSettled;
    assert.deepEqual(cancelledOf(sent), [true, true, false], 'nothing more once one failed');
  });

  it('refuses statements asked for after the abort, and leaves no listener behind', async () => {
    const { sent, execute } = statementsInTurn();
    const abandon = new AbortController();
    const run = cancelledBy(abandon.signal, execute);
    const done = run(tx, sql`select 1`);
    assert.equal(getEventListeners(abandon.signal, 'abort').length, 1);
    sent[0]?.succeed();
    await done;
    assert.equal(getEventListeners(abandon.signal, 'abort').length, 0);
    abandon.abort(new Error('abandoned'));
    assert.equal(sent[0]?.cancelled, false, 'a settled statement is not touched');
    await assert.rejects(run(tx, sql`select 2`), /abandoned/);
    assert.equal(sent.length, 1);
  });
});
