import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { terminalSafe, terminalSafeJson } from '../../src/cli/terminal-text.ts';

describe('text from producers shown on an operator terminal', () => {
  it('shows control characters as escapes, so an ESC sequence is text, not a command', () => {
    assert.equal(
      terminalSafe('tenant-a:\u001b]0;pwned\u0007c-1'),
      'tenant-a:\\x1b]0;pwned\\x07c-1',
    );
    assert.equal(terminalSafe('a\u001b[2Jb\r\nc\t\u0000\u007f'), 'a\\x1b[2Jb\\r\\nc\\t\\x00\\x7f');
  });

  it('escapes C1 controls and the bidirectional overrides that reorder a line', () => {
    assert.equal(terminalSafe('\u009b31m'), '\\x9b31m');
    assert.equal(terminalSafe('abc\u202edef\u2066'), 'abc\\u202edef\\u2066');
  });

  it('leaves ordinary text, accents and emoji alone, and escapes the backslash itself', () => {
    assert.equal(terminalSafe('tenant-a:c-1 Zoë 👍'), 'tenant-a:c-1 Zoë 👍');
    assert.equal(terminalSafe('a\\x1b'), 'a\\\\x1b');
  });

  it('writes JSON that is still JSON, with nothing a terminal would act on', () => {
    const value = { key: 'x\u001b[31m\u009b\u202ey' };
    const json = terminalSafeJson(value);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting that none is left
    assert.doesNotMatch(json, /[\u0000-\u001f\u007f-\u009f\u202e]/u);
    assert.deepEqual(JSON.parse(json), value);
  });
});
