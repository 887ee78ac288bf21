/**
 * The house's rules (README "Where things are"), checked on the import graph of src/: the
 * service never loads development tools; the inner folders (domain, contracts, application)
 * know nothing of the outer ones, nor of Kafka, Postgres or HTTP; no module imports itself
 * round a loop; and only the consumer commits offsets.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  importCycles,
  importsIn,
  importsOf,
  REPOSITORY_ROOT,
  typeScriptFiles,
} from '../support/import-graph.ts';

const SOURCE = typeScriptFiles('src');

/** Every import of `folder`'s files that `allowed` refuses, as "file -> target". */
function importsBreaking(folder: string, allowed: (target: string) => boolean): string[] {
  return SOURCE.filter((file) => file.startsWith(`${folder}/`)).flatMap((file) =>
    importsOf(file)
      .filter(({ target }) => !allowed(target))
      .map(({ target }) => `${file} -> ${target}`),
  );
}

const within =
  (...folders: string[]) =>
  (target: string) =>
    folders.some((folder) => target.startsWith(`${folder}/`) || target === folder);

describe('the layers of src/', () => {
  it('finds the files and their imports (the rules below are not vacuous)', () => {
    assert.ok(SOURCE.length > 100, `${SOURCE.length} files`);
    assert.ok(SOURCE.includes('src/domain/stamp.ts'));
    const apply = importsOf('src/application/apply-update-batch.ts').map(({ target }) => target);
    assert.ok(
      apply.some((target) => target.startsWith('src/domain/')),
      apply.join(', '),
    );
  });

  it('never loads development tools, tests or benchmarks', () => {
    assert.deepEqual(
      importsBreaking('src', (target) => !within('dev', 'test', 'bench')(target)),
      [],
    );
  });

  it('keeps the domain pure: itself, phone numbers and UUIDs only', () => {
    assert.deepEqual(
      importsBreaking(
        'src/domain',
        (target) => within('src/domain')(target) || /^(libphonenumber-js|uuid)(\/|$)/.test(target),
      ),
      [],
    );
  });

  it('lets the contracts know the domain and zod, nothing outer', () => {
    assert.deepEqual(
      importsBreaking(
        'src/contracts',
        (target) => within('src/contracts', 'src/domain')(target) || target === 'zod',
      ),
      [],
    );
  });

  it('lets the use cases know contracts, domain and errors, and no library at all', () => {
    assert.deepEqual(
      importsBreaking(
        'src/application',
        (target) =>
          within('src/application', 'src/contracts', 'src/domain')(target) ||
          target === 'src/errors.ts' ||
          target.startsWith('node:'),
      ),
      [],
    );
  });

  it('has no import cycles, type-only imports included', () => {
    assert.deepEqual(importCycles(SOURCE), []);
  });

  it('commits consumer offsets in the consumer alone', () => {
    const committing = SOURCE.filter((file) =>
      /\bcommitOffsets(IfNecessary)?\s*\(/.test(readFileSync(join(REPOSITORY_ROOT, file), 'utf8')),
    );
    assert.ok(committing.length > 0);
    assert.deepEqual(
      committing.filter((file) => !file.startsWith('src/messaging/consumer/')),
      [],
    );
  });
});

describe('the import graph reader', () => {
  const sources: Record<string, string> = {
    'src/a.ts': "import { b } from './b.ts';\nexport type { C } from './c/c.ts';",
    'src/b.ts': "import type {\n  A,\n} from './a.ts';\nimport { z } from 'zod';",
    'src/c/c.ts': "const lazy = await import('../b.ts');",
  };
  const read = (file: string) => importsIn(file, sources[file] ?? '');

  it('reads static, multi-line, type-only, re-exported and dynamic imports', () => {
    assert.deepEqual(read('src/b.ts'), [
      { target: 'src/a.ts', local: true, typeOnly: true },
      { target: 'zod', local: false, typeOnly: false },
    ]);
    assert.deepEqual(read('src/a.ts'), [
      { target: 'src/b.ts', local: true, typeOnly: false },
      { target: 'src/c/c.ts', local: true, typeOnly: true },
    ]);
    assert.deepEqual(read('src/c/c.ts'), [{ target: 'src/b.ts', local: true, typeOnly: false }]);
  });

  it('finds a loop, and none where there is none', () => {
    assert.deepEqual(importCycles(Object.keys(sources), read), [['src/a.ts', 'src/b.ts']]);
    assert.deepEqual(importCycles(['src/b.ts', 'src/c/c.ts'], read), []);
  });
});
