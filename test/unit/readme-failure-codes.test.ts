/**
 * The README's three code tables (dead letters, enrichment, the service's own failures) list
 * exactly the codes of the one registry, src/contracts/error-codes.ts: a code added, renamed or
 * dropped in either place fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FAILURE_CODE_FAMILIES } from '../../src/contracts/error-codes.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The codes in the first column of the table after `<!-- failure codes: family -->`. */
function readmeCodes(family: string): string[] {
  const start = README.indexOf(`<!-- failure codes: ${family}`);
  assert.ok(start >= 0, `the README marks the ${family} table`);
  const lines = README.slice(start).split('\n').slice(1);
  const table = lines
    .slice(lines.findIndex((line) => line.startsWith('|')))
    .filter((_, index, all) => all.slice(0, index + 1).every((line) => line.startsWith('|')));
  return table
    .slice(2)
    .flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([a-z_]+\.[a-z_]+)`/g)])
    .map((match) => match[1] as string);
}

describe('the README and the failure-code registry', () => {
  for (const [family, codes] of Object.entries(FAILURE_CODE_FAMILIES)) {
    it(`lists every ${family} code once, and no other`, () => {
      const listed = readmeCodes(family);
      assert.equal(new Set(listed).size, listed.length, `a code twice: ${listed.join(', ')}`);
      assert.deepEqual([...listed].sort(), Object.values(codes).sort());
    });
  }

  it('never gives two families the same code', () => {
    const all = Object.values(FAILURE_CODE_FAMILIES).flatMap((codes) => Object.values(codes));
    assert.equal(new Set(all).size, all.length);
  });
});
