import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closestMatch, parseCommandLine, unknownAction } from '../../src/cli/usage-error.ts';

const OPTIONS = {
  limit: { type: 'string' },
  json: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
} as const;

function problem(args: string[], allowPositionals = false): string {
  try {
    parseCommandLine(args, OPTIONS, allowPositionals);
  } catch (error) {
    return (error as Error).message;
  }
  return 'parsed';
}

describe('command-line mistakes, in our words', () => {
  it('suggests the option a near miss meant', () => {
    assert.equal(problem(['--limt', '3']), 'unknown option --limt; did you mean --limit?');
    assert.equal(problem(['--dryrun']), 'unknown option --dryrun; did you mean --dry-run?');
    assert.equal(problem(['--jsno=1']), 'unknown option --jsno; did you mean --json?');
  });

  it('suggests nothing for an option that resembles none', () => {
    assert.equal(problem(['--colour', 'blue']), 'unknown option --colour');
  });

  it('says which option lacks a value or takes none', () => {
    assert.equal(problem(['--limit']), '--limit needs a value');
    assert.equal(problem(['--json=yes']), '--json takes no value');
  });

  it('names an argument the command does not take', () => {
    assert.equal(problem(['extra']), "unexpected argument 'extra'");
    assert.equal(problem(['extra'], true), 'parsed');
  });

  it('suggests the sub-command a near miss meant', () => {
    assert.equal(
      unknownAction('tenants', ['set', 'list'], 'lst').message,
      "tenants: expected 'set' or 'list', got 'lst'; did you mean list?",
    );
    assert.equal(
      unknownAction('dlq', ['list', 'show', 'redrive'], undefined).message,
      "dlq: expected 'list', 'show' or 'redrive', got nothing",
    );
  });

  it('takes a near miss or an unambiguous beginning, never a mere resemblance', () => {
    assert.equal(closestMatch('replya', ['replay', 'republish']), 'replay');
    assert.equal(closestMatch('repub', ['replay', 'republish']), 'republish');
    assert.equal(closestMatch('x', ['run', 'dlq']), undefined);
    assert.equal(closestMatch('frobnicate', ['run', 'replay', 'tenants']), undefined);
  });
});
