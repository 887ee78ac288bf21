import { open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isProcessAlive } from './process-alive.ts';

/**
 * Runs `work` while holding `lockFile`, so that concurrent test processes fetch a download into
 * the shared cache once. A waiter returns as soon as `isDone()` says another process finished.
 * A lock whose owner died, or that is older than `staleAfterMs`, is taken over.
 */
export async function withCacheLock(
  lockFile: string,
  options: { isDone: () => boolean; staleAfterMs: number },
  work: () => Promise<void>,
): Promise<void> {
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (options.isDone()) return;
    if (await isStale(lockFile, options.staleAfterMs)) {
      await rm(lockFile, { force: true });
      continue;
    }
    await sleep(500);
  }
  try {
    await work();
  } finally {
    await rm(lockFile, { force: true });
  }
}

/** Downloads of a fetcher that died (`fetch-*` in `dir`); call it while holding the lock. */
export async function removeAbandonedFetches(dir: string): Promise<void> {
  const entries = await readdir(dir);
  const fetches = entries.filter((entry) => entry.startsWith('fetch-'));
  await Promise.all(fetches.map((entry) => rm(join(dir, entry), { recursive: true, force: true })));
}

/** A lock whose owner died (crash, Ctrl-C) or that is older than any fetch can take. */
async function isStale(lockFile: string, staleAfterMs: number): Promise<boolean> {
  try {
    const handle = await open(lockFile, 'r');
    const [content, info] = await Promise.all([handle.readFile('utf8'), handle.stat()]).finally(
      () => handle.close(),
    );
    if (Date.now() - info.mtimeMs > staleAfterMs) return true;
    const pid = Number.parseInt(content, 10);
    // The owner writes its pid right after creating the file; give it that moment.
    if (Number.isNaN(pid)) return Date.now() - info.mtimeMs > 10_000;
    return !isProcessAlive(pid);
  } catch {
    return false;
  }
}
