import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { type LaunchOptions, launchCommand } from './launch-command.ts';

/** How a child ended; `error` when it could not be spawned at all. */
export type ProcessExit = {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error | undefined;
};

/**
 * A long-running service process (broker, postmaster) whose lifetime is bounded by ours: it
 * never outlives this Node process, and its stdout and stderr go to a log file.
 */
export type OwnedProcess = {
  readonly pid: number | undefined;
  readonly logFile: string;
  /** Settles when the process has ended; never rejects. */
  readonly exited: Promise<ProcessExit>;
  exitStatus(): ProcessExit | undefined;
  /** Sends `signal`, then SIGKILL if the process is still there after `graceMs`. */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<ProcessExit>;
  /** The last lines of the log file, for error messages. */
  logTail(lines?: number): string;
};

export type OwnedProcessOptions = LaunchOptions & {
  cwd: string;
  logFile: string;
  env?: NodeJS.ProcessEnv | undefined;
};

const liveChildren = new Set<ChildProcess>();

// A test runner that calls process.exit() skips every stop(); this makes sure no broker or
// postmaster survives it. SIGKILL of the parent is covered by setpriv's parent-death signal.
function killLiveChildrenOnExit(): void {
  for (const child of liveChildren) child.kill('SIGKILL');
}

export async function spawnOwnedProcess(
  command: string,
  args: readonly string[],
  options: OwnedProcessOptions,
): Promise<OwnedProcess> {
  const launch = await launchCommand(command, args, { ...options, dieWithParent: true });
  const logFd = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(launch.command, launch.args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', logFd, logFd],
      // Its own process group where the parent-death signal protects us: a Ctrl-C at the
      // terminal then reaches only our process, which stops the service before the broker
      // and database under it, instead of all of them dying at once.
      detached: process.platform === 'linux',
    });
  } finally {
    closeSync(logFd);
  }

  if (liveChildren.size === 0) process.on('exit', killLiveChildrenOnExit);
  liveChildren.add(child);
  let exit: ProcessExit | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    const settle = (ended: ProcessExit) => {
      if (exit !== undefined) return;
      exit = ended;
      liveChildren.delete(child);
      if (liveChildren.size === 0) process.off('exit', killLiveChildrenOnExit);
      resolve(ended);
    };
    child.once('exit', (code, signal) => settle({ code, signal }));
    child.once('error', (error) => settle({ code: null, signal: null, error }));
  });

  return {
    pid: child.pid,
    logFile: options.logFile,
    exited,
    exitStatus: () => exit,
    async stop(signal, graceMs) {
      if (exit !== undefined) return exit;
      child.kill(signal);
      const escalation = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(escalation);
      }
    },
    logTail: (lines = 40) => readLogTail(options.logFile, lines),
  };
}

export function describeExit(exit: ProcessExit): string {
  if (exit.error !== undefined) return `could not be started (${exit.error.message})`;
  if (exit.signal !== null) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}

function readLogTail(file: string, lines: number): string {
  // Broker logs reach megabytes; the end is all an error message needs.
  const maxBytes = 64 * 1024;
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return '(no log written)';
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } finally {
    closeSync(fd);
  }
}
