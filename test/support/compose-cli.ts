import { spawnSync } from 'node:child_process';

/** How to run a Compose implementation here: `docker compose` (v2 plugin) or `docker-compose`. */
export interface ComposeCli {
  command: string;
  args: string[];
  version: string;
}

function tryCompose(command: string, args: string[]): ComposeCli | undefined {
  const result = spawnSync(command, [...args, 'version'], { encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) return undefined;
  return { command, args, version: result.stdout.trim().split('\n')[0] ?? '' };
}

const find = () => tryCompose('docker', ['compose']) ?? tryCompose('docker-compose', []);

/**
 * A Compose implementation, installed from Debian's packages when missing and we may
 * (`docker-compose`, the Python implementation, which validates a file without an engine):
 * the test set-up installs what the tests need. Undefined, with the reason, when neither works.
 */
export function composeCli(): ComposeCli | { missing: string } {
  const found = find();
  if (found) return found;
  if (process.getuid?.() !== 0)
    return { missing: 'no Compose implementation, and not root to install one' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'docker-compose'], {
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  let result = install();
  if (result.status !== 0) {
    spawnSync('apt-get', ['update'], { timeout: 300_000 });
    result = install();
  }
  return (
    find() ?? {
      missing: `apt-get install docker-compose failed: ${result.stderr.trim().split('\n').at(-1)}`,
    }
  );
}
