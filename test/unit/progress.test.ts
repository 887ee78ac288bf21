import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createProgress, formatBytes, renderProgress } from '../../src/cli/progress.ts';

function captured(isTTY: boolean) {
  const written: string[] = [];
  const stream = {
    isTTY,
    columns: 200,
    write: (text: string) => {
      written.push(text);
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

describe('progress of long operations', () => {
  it('draws a bar with percent, counts, rate and time left when the total is known', () => {
    const line = renderProgress({
      label: 'replay',
      done: 500,
      total: 1000,
      elapsedMs: 2_000,
      note: 'partition 0',
      bar: true,
      width: 200,
    });
    assert.equal(line, 'replay: [############------------] 50% 500/1000 250/s eta 2s partition 0');
  });

  it('counts without a bar when the total is unknown, and fits the terminal', () => {
    assert.equal(
      renderProgress({ label: 'produce', done: 30, elapsedMs: 3_000, bar: true, width: 200 }),
      'produce: 30 10/s',
    );
    const cut = renderProgress({
      label: 'x',
      done: 1,
      total: 2,
      elapsedMs: 1,
      bar: true,
      width: 10,
    });
    assert.ok(cut.length < 10);
  });

  it('writes plain lines at each tenth of the total when not on a terminal', () => {
    const { stream, written } = captured(false);
    let clock = 0;
    const progress = createProgress('dlq', 100, { stream, env: {}, now: () => clock });
    for (let done = 1; done <= 100; done++) {
      clock += 1; // far less than the plain-line interval
      progress.update(done);
    }
    progress.finish('done');
    // the first update, then one line per tenth
    assert.equal(written.filter((text) => / \d+% /.test(text)).length, 11);
    assert.ok(written.every((text) => text.endsWith('\n') && !text.includes('\r')));
    assert.equal(written.at(-1), 'dlq: done\n');
  });

  it('redraws one line on a terminal, but not when CI is set', () => {
    const terminal = captured(true);
    let clock = 0;
    const onTerminal = createProgress('replay', 10, {
      stream: terminal.stream,
      env: {},
      now: () => (clock += 1_000),
    });
    onTerminal.update(5);
    onTerminal.finish('5 replayed');
    assert.ok(terminal.written[0]?.startsWith('\r\x1b[Kreplay: [############------------] 50%'));
    assert.equal(terminal.written.at(-1), '\r\x1b[Kreplay: 5 replayed\n');

    const ci = captured(true);
    const inCi = createProgress('replay', 10, { stream: ci.stream, env: { CI: 'true' } });
    inCi.update(5);
    assert.ok(ci.written.every((text) => !text.includes('\r')));
  });

  it('writes sizes in decimal units', () => {
    assert.equal(formatBytes(999), '999 B');
    assert.equal(formatBytes(172_688_890), '172.7 MB');
  });
});
