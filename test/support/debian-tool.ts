import { withCacheLock } from '../../dev/cache-lock.ts';
import { findExecutable } from '../../dev/find-executable.ts';
import { runCommand } from '../../dev/run-command.ts';

/**
 * A program from Debian's packages that a test needs (promtool and prometheus come with the
 * `prometheus` package): found on PATH, or installed with apt-get when the test runs as root
 * on a Debian machine, as CI does. Test files running in parallel install it once.
 */
export async function ensureDebianTool(executable: string, debianPackage: string): Promise<string> {
  const found = await findExecutable(executable);
  if (found) return found;
  const aptGet = await findExecutable('apt-get');
  if (!aptGet || process.getuid?.() !== 0)
    throw new Error(
      `${executable} is needed: install the Debian package ${debianPackage} (apt-get install ${debianPackage})`,
    );
  await withCacheLock(
    `/tmp/customer-sync-apt-${debianPackage}.lock`,
    { isDone: () => false, staleAfterMs: 900_000 },
    async () => {
      if (await findExecutable(executable)) return; // another test file installed it meanwhile
      const install = () =>
        runCommand(aptGet, ['install', '-y', '--no-install-recommends', debianPackage], {
          env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
          timeoutMs: 600_000,
        });
      // A fresh machine may not have the package lists yet.
      await install().catch(async () => {
        await runCommand(aptGet, ['update'], { timeoutMs: 600_000 });
        await install();
      });
    },
  );
  const installed = await findExecutable(executable);
  if (!installed)
    throw new Error(`apt-get installed ${debianPackage}, but ${executable} is not on PATH`);
  return installed;
}
