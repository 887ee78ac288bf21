import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';

const ANSWER_TIMEOUT_MS = 4_000;

/**
 * Whether a Docker-compatible engine answers, so testcontainers can start services. Without any
 * sign of an engine (variable, config file, socket) it says no at once, without loading
 * testcontainers; otherwise it asks testcontainers, which pings the engine, within 4 s.
 */
export async function dockerEngineAnswers(timeoutMs = ANSWER_TIMEOUT_MS): Promise<boolean> {
  if (!hasEngineHint()) return false;
  const { getContainerRuntimeClient } = await import('testcontainers');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([getContainerRuntimeClient().then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** The places testcontainers looks for an engine, checked without talking to it. */
function hasEngineHint(): boolean {
  if (process.platform === 'win32') return true;
  if (process.env.DOCKER_HOST || process.env.TESTCONTAINERS_HOST_OVERRIDE) return true;
  const home = homedir();
  const sockets = [
    '/var/run/docker.sock',
    join(home, '.docker', 'run', 'docker.sock'),
    join(home, '.docker', 'desktop', 'docker.sock'),
    join('/run', 'user', String(userInfo().uid), 'docker.sock'),
    ...(process.env.XDG_RUNTIME_DIR ? [join(process.env.XDG_RUNTIME_DIR, 'docker.sock')] : []),
  ];
  return existsSync(join(home, '.testcontainers.properties')) || sockets.some(existsSync);
}
