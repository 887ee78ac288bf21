import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { findExecutable } from './find-executable.ts';
import { runCommand } from './run-command.ts';

/**
 * The directory holding the PostgreSQL server programs (initdb, postgres), or undefined.
 * Debian and Homebrew keep them off PATH, so their usual places are searched too.
 */
export async function findPostgresBinDir(): Promise<string | undefined> {
  const pgConfig = await findExecutable('pg_config');
  if (pgConfig !== undefined) {
    const bindir = await runCommand(pgConfig, ['--bindir']).then(
      (output) => output.stdout.trim(),
      () => '',
    );
    // pg_config may come from the client-only package, whose bindir has no initdb.
    if (bindir !== '' && hasServerPrograms(bindir)) return bindir;
  }
  for (const parent of ['/usr/lib/postgresql', '/opt/homebrew/opt', '/usr/local/opt']) {
    const found = await newestServerIn(parent);
    if (found !== undefined) return found;
  }
  const initdb = await findExecutable('initdb');
  return initdb === undefined ? undefined : dirname(initdb);
}

function hasServerPrograms(dir: string): boolean {
  return existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'));
}

/** `/usr/lib/postgresql/<major>/bin` or `<brew prefix>/opt/postgresql@<major>/bin`, newest first. */
async function newestServerIn(parent: string): Promise<string | undefined> {
  const entries = await readdir(parent).catch(() => [] as string[]);
  const majorOf = (entry: string) => Number(/(\d+)$/.exec(entry)?.[1] ?? 0);
  const candidates = entries
    .filter((entry) => parent.endsWith('postgresql') || entry.startsWith('postgresql'))
    .sort((a, b) => majorOf(b) - majorOf(a))
    .map((entry) => join(parent, entry, 'bin'));
  return candidates.find(hasServerPrograms);
}
