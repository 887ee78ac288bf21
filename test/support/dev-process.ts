import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { registerCleanup } from './cleanup.ts';
import { waitFor } from './wait-for.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DEV_ENV_FILE = `${PROJECT_ROOT}.tmp/dev.env`;

/** A process as /proc knows it: its pid, and its start time, so a reused pid is not mistaken. */
export interface ProcessIdentity {
  pid: number;
  startTime: string;
  command: string;
}

function readStat(pid: number): { ppid: number; startTime: string; state: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: the fields follow the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', ppid: Number(fields[1]), startTime: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

/** `root` and every process under it, right now. */
export function processTree(root: number): ProcessIdentity[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (stat === undefined) continue;
    children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), pid]);
  }
  const tree: ProcessIdentity[] = [];
  const visit = (pid: number) => {
    const stat = readStat(pid);
    if (stat === undefined) return;
    tree.push({ pid, startTime: stat.startTime, command: commandLine(pid) });
    for (const child of children.get(pid) ?? []) visit(child);
  };
  visit(root);
  return tree;
}

/** Still running (not gone, not a zombie, not a new process that got the same pid). */
export function stillRunning(identity: ProcessIdentity): boolean {
  const stat = readStat(identity.pid);
  return stat !== undefined && stat.startTime === identity.startTime && stat.state !== 'Z';
}

/** `npm run dev` as a person runs it in a terminal, its output kept for assertions. */
export class DevProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout = '';
  stderr = '';

  constructor(env: Record<string, string>) {
    this.child = spawn('npm', ['run', 'dev'], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString('utf8');
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    registerCleanup(async () => {
      // Whatever a failed test left: the whole tree, then npm.
      for (const identity of processTree(this.pid).reverse())
        if (stillRunning(identity)) process.kill(identity.pid, 'SIGKILL');
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Waits for the service to run; fails with the output's tail if npm ends first. */
  async running(timeoutMs = 180_000): Promise<void> {
    await waitFor(
      `npm run dev to run the service (stderr tail: ${this.stderr.slice(-600)})`,
      () => {
        if (this.child.exitCode !== null) throw new Error(`npm run dev exited: ${this.stderr}`);
        return this.stdout.includes('"msg":"customer-sync is running"');
      },
      { timeoutMs, intervalMs: 250 },
    );
  }

  /** The pid of the first process in the tree whose command line matches. */
  pidOf(pattern: RegExp): number {
    const found = processTree(this.pid).find((identity) => pattern.test(identity.command));
    if (found === undefined)
      throw new Error(
        `no process matching ${pattern} under npm: ${JSON.stringify(processTree(this.pid))}`,
      );
    return found.pid;
  }

  /** What it printed, to explain a failed assertion: stderr and stdout, each its last 6,000 characters. */
  output(): string {
    return `stderr:\n${this.stderr.slice(-6000)}\nstdout:\n${this.stdout.slice(-6000)}`;
  }

  devLines(): string[] {
    return this.stderr.split('\n').filter((line) => line.startsWith('[dev] '));
  }
}
