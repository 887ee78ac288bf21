/**
 * The README's "Architecture" section names folders and files (the folder table, where each
 * guarantee is kept, which use case each command runs): every one of them exists, so a move
 * that forgets the README fails here.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const ROOT = new URL('../../', import.meta.url);
const README = readFileSync(new URL('README.md', ROOT), 'utf8');

function architectureSection(): string {
  const start = README.indexOf('\n## Architecture\n');
  assert.ok(start >= 0, 'the README has an Architecture section');
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end);
}

/** Backticked paths: `src/x/`, `main.ts`, `messaging/outbox/outbox-relay.ts`, … */
function namedPaths(text: string): string[] {
  return [...text.matchAll(/`([a-z][\w./<>-]*(?:\.ts|\/))`/g)]
    .map((match) => match[1] as string)
    .filter((path) => !path.includes('<'));
}

describe("the README's architecture section", () => {
  const paths = namedPaths(architectureSection());

  it('names the folders of src/ and the files of the guarantees', () => {
    assert.ok(paths.includes('src/messaging/consumer/'), paths.join(' '));
    assert.ok(paths.includes('domain/merge-last-writer-wins.ts'), paths.join(' '));
  });

  it('names only paths that exist (from the repository root, or from src/)', () => {
    const missing = paths.filter(
      (path) => !existsSync(new URL(path, ROOT)) && !existsSync(new URL(`src/${path}`, ROOT)),
    );
    assert.deepEqual(missing, []);
  });
});
