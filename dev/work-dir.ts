import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessAlive } from './process-alive.ts';

const OWNER_FILE = 'owner.pid';
const KEEP_FILE = 'KEPT-FOR-INSPECTION';

/**
 * A new throwaway directory `<parent>/<prefix>XXXXXX` for one service run. It records its
 * owner's pid, so a later start can remove the directories of runs that were killed before
 * they could clean up (a PostgreSQL cluster is 40 MB).
 */
export async function createWorkDir(parent: string, prefix: string): Promise<string> {
  await removeAbandonedWorkDirs(parent, prefix);
  const dir = await mkdtemp(join(parent, prefix));
  await writeFile(join(dir, OWNER_FILE), `${process.pid}\n`);
  return dir;
}

/** Marks the directory of a failed start so no sweep removes the logs someone is asked to read. */
export async function keepForInspection(dir: string): Promise<void> {
  await writeFile(join(dir, KEEP_FILE), 'The start failed; delete this directory when done.\n');
}

async function removeAbandonedWorkDirs(parent: string, prefix: string): Promise<void> {
  const entries = await readdir(parent).catch(() => [] as string[]);
  const candidates = entries.filter((entry) => entry.startsWith(prefix));
  await Promise.all(
    candidates.map(async (entry) => {
      const dir = join(parent, entry);
      if (existsSync(join(dir, KEEP_FILE))) return;
      const owner = Number.parseInt(
        await readFile(join(dir, OWNER_FILE), 'utf8').catch(() => ''),
        10,
      );
      // No owner yet means another process is creating it right now.
      if (Number.isNaN(owner) || isProcessAlive(owner)) return;
      // Another user's leftovers may not be ours to delete; they are not in our way either.
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }),
  );
}
