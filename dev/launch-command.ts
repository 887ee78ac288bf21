import { DevstackError } from './devstack-error.ts';
import { findExecutable } from './find-executable.ts';

export type LaunchOptions = {
  /** OS user to run as; needed because initdb and postgres refuse to run as root. */
  asUser?: string | undefined;
  /** Kill the command when this Node process dies, even by SIGKILL (Linux only). */
  dieWithParent?: boolean | undefined;
};

export type Launch = { command: string; args: string[] };

/**
 * How to spawn `command` so it runs as `asUser` and/or dies with us. Both go through util-linux
 * `setpriv`, which execs in place: the spawned pid is the real process, so our signals reach it,
 * and its parent-death signal survives the uid switch (unlike `runuser`/`su`, which fork).
 */
export async function launchCommand(
  command: string,
  args: readonly string[],
  options: LaunchOptions = {},
): Promise<Launch> {
  const wantsPdeathsig = options.dieWithParent === true && process.platform === 'linux';
  if (options.asUser === undefined && !wantsPdeathsig) return { command, args: [...args] };

  const setpriv = await findExecutable('setpriv', ['/usr/bin', '/bin']);
  if (setpriv === undefined) {
    if (options.asUser !== undefined) {
      throw new DevstackError(
        'RUN_AS_USER_UNAVAILABLE',
        `setpriv (util-linux) is needed to run ${command} as the OS user '${options.asUser}'`,
      );
    }
    // Without setpriv we only lose the SIGKILL safety net; the exit hook still covers clean exits.
    return { command, args: [...args] };
  }

  const user = options.asUser;
  const identity =
    user === undefined ? [] : ['--reuid', user, '--regid', user, '--init-groups', '--reset-env'];
  const pdeathsig = wantsPdeathsig ? ['--pdeathsig', 'KILL'] : [];
  return { command: setpriv, args: [...identity, ...pdeathsig, '--', command, ...args] };
}
