import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** The first executable called `name` in `preferredDirs`, then on PATH; undefined if none. */
export async function findExecutable(
  name: string,
  preferredDirs: readonly string[] = [],
): Promise<string | undefined> {
  const pathDirs = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '');
  const suffixes = process.platform === 'win32' ? ['.exe', '.cmd', '.bat', ''] : [''];
  for (const dir of [...preferredDirs, ...pathDirs]) {
    for (const suffix of suffixes) {
      const candidate = join(dir, `${name}${suffix}`);
      if (await isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
