import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { registerCleanup } from './cleanup.ts';
import type { TestTopics } from './test-environment.ts';
import { testInfrastructure } from './test-environment.ts';

const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));

/** Reports the child's peak resident memory on exit (getrusage ru_maxrss, in KiB). */
const REPORT_PEAK_RSS = `data:text/javascript,process.on('exit',()=>process.stderr.write('\\ncli-peak-rss-kib '+process.resourceUsage().maxRSS+'\\n'))`;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** the peak RSS in KiB, when asked for with `measurePeakRss` */
  peakRssKib?: number;
}

export interface CliOptions {
  env?: Record<string, string>;
  /** written (or piped) to the child's standard input, which is then closed */
  stdin?: string | Buffer | Readable;
  measurePeakRss?: boolean;
  /** the program to run instead of `customer-sync` (a dev/ tool) */
  program?: string;
}

/** The environment a command needs to reach this test's Kafka topics and database. */
export function cliEnvironment(target: {
  databaseUrl?: string;
  topics?: TestTopics;
}): Record<string, string> {
  const { kafkaBrokers } = testInfrastructure();
  return {
    KAFKA_BROKERS: kafkaBrokers,
    ...(target.databaseUrl ? { DATABASE_URL: target.databaseUrl } : {}),
    ...(target.topics
      ? {
          TOPIC_UPDATE_REQUESTED: target.topics.updateRequested,
          TOPIC_CUSTOMER_UPDATED: target.topics.customerUpdated,
          TOPIC_DEAD_LETTER: target.topics.deadLetter,
        }
      : {}),
    RETRY_INITIAL_DELAY_MS: '100',
    RETRY_MAX_DELAY_MS: '1000',
    // The lending-system simulator of the tests serves plain HTTP.
    LENDING_API_ALLOW_INSECURE_HTTP: 'true',
  };
}

/** A running `customer-sync <args>`, for tests that signal it while it works. */
export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<CliResult>;
}

/** Starts `customer-sync <args>` as a child process, as an operator would run it. */
export function startCli(args: string[], options: CliOptions = {}): CliProcess {
  const nodeArgs = options.measurePeakRss ? ['--import', REPORT_PEAK_RSS] : [];
  const child = spawn(process.execPath, [...nodeArgs, options.program ?? BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  registerCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const stdin = options.stdin;
  if (stdin === undefined) child.stdin?.end();
  else if (typeof stdin === 'string' || Buffer.isBuffer(stdin)) child.stdin?.end(stdin);
  else if (child.stdin) stdin.pipe(child.stdin);
  const exited = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      const peak = /\ncli-peak-rss-kib (\d+)\n/.exec(stderr);
      resolve({
        code,
        signal,
        stdout,
        stderr: stderr.replace(/\ncli-peak-rss-kib \d+\n/, ''),
        ...(peak?.[1] ? { peakRssKib: Number(peak[1]) } : {}),
      });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Runs `customer-sync <args>` to the end. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).exited;
}

/** The last line of stdout parsed as JSON (commands print their `--json` report there). */
export function jsonReport<T = Record<string, unknown>>(result: CliResult): T {
  const lines = result.stdout.trim().split('\n');
  const last = lines[lines.length - 1];
  if (last === undefined || last === '')
    throw new Error(`no JSON report on stdout; stderr: ${result.stderr}`);
  return JSON.parse(last) as T;
}
