import { execFile } from 'node:child_process';
import { type LaunchOptions, launchCommand } from './launch-command.ts';

export type RunCommandOptions = LaunchOptions & {
  cwd?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  timeoutMs?: number | undefined;
};

export type CommandOutput = { stdout: string; stderr: string };

/** Runs a command to completion; a non-zero exit rejects with the tail of its output. */
export async function runCommand(
  command: string,
  args: readonly string[],
  options: RunCommandOptions = {},
): Promise<CommandOutput> {
  const launch = await launchCommand(command, args, options);
  return new Promise((resolve, reject) => {
    execFile(
      launch.command,
      launch.args,
      {
        cwd: options.cwd,
        env: options.env,
        timeout: options.timeoutMs ?? 0,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({ stdout, stderr });
          return;
        }
        const output = `${stdout}\n${stderr}`.trim().split('\n').slice(-30).join('\n');
        const why = error.killed ? 'was killed (timeout?)' : `exited with code ${error.code}`;
        reject(new Error(`${[command, ...args].join(' ')} ${why}:\n${output}`, { cause: error }));
      },
    );
  });
}
