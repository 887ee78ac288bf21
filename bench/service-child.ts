import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../src/cli/bin.ts', import.meta.url));
const DOCKERFILE = fileURLToPath(new URL('../Dockerfile', import.meta.url));

/** The image's variables that tune the runtime: V8's heap (NODE_OPTIONS), glibc's malloc. */
const RUNTIME_TUNING = /^(?:NODE_OPTIONS|MALLOC_[A-Z_]+)$/;

/**
 * The runtime settings of the container image (`ENV NAME=value` or `ENV NAME="value"`, one per
 * line), so that the service is measured as it is deployed rather than as V8 and malloc size
 * themselves on whatever host runs the benchmark.
 */
export function imageRuntimeEnvironment(
  dockerfile: string = readFileSync(DOCKERFILE, 'utf8'),
): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [, name, quoted, bare] of dockerfile.matchAll(
    /^ENV ([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"]*)"|(\S*))[ \t]*$/gm,
  ))
    if (name !== undefined && RUNTIME_TUNING.test(name)) environment[name] = quoted ?? bare ?? '';
  return environment;
}

export interface MemorySample {
  /** milliseconds since the service joined its consumer group */
  atMs: number;
  rssMiB: number;
}

/**
 * The real service as a child process (`customer-sync run`), so that its resident memory can
 * be read from /proc/<pid>/status and its CPU profiled without the benchmark in the way.
 */
export class ServiceChild {
  readonly memory: MemorySample[] = [];
  peakRssMiB = 0;
  joinedAt = 0;
  /** the port of /healthz, /readyz and /metrics, once the service said it is running */
  httpPort: number | undefined;
  private readonly logs: Array<Record<string, unknown>> = [];
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private sampler: NodeJS.Timeout | undefined;

  private readonly env: Record<string, string>;
  private readonly options: { cpuProfileDir?: string; bin?: string };

  /** `bin`: another checkout's src/cli/bin.ts, to compare two versions side by side */
  constructor(env: Record<string, string>, options: { cpuProfileDir?: string; bin?: string } = {}) {
    this.env = env;
    this.options = options;
  }

  /** Starts the process; resolves once it has joined its consumer group. */
  async start(timeoutMs = 90_000): Promise<void> {
    const nodeFlags = this.options.cpuProfileDir
      ? ['--cpu-prof', `--cpu-prof-dir=${this.options.cpuProfileDir}`]
      : [];
    const child = spawn(process.execPath, [...nodeFlags, this.options.bin ?? BIN, 'run'], {
      env: { PATH: process.env.PATH ?? '', ...imageRuntimeEnvironment(), ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    let buffered = '';
    let joined: () => void = () => {};
    const joinedPromise = new Promise<void>((resolve) => {
      joined = resolve;
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const entry = parseLogLine(line);
        this.logs.push(entry);
        if (this.logs.length > 2_000) this.logs.shift(); // the latest lines are the telling ones
        if (typeof entry.httpPort === 'number') this.httpPort = entry.httpPort;
        if (entry.msg === 'joined the consumer group' && this.joinedAt === 0) {
          this.joinedAt = performance.now();
          joined();
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => this.logs.push({ stderr: chunk.toString() }));
    this.sampler = setInterval(() => void this.sampleMemory(), 100);

    const timeout = new Promise<'timeout'>((resolve) =>
      setTimeout(() => resolve('timeout'), timeoutMs).unref(),
    );
    const outcome = await Promise.race([
      joinedPromise.then(() => 'joined' as const),
      this.exited.then(() => 'exited' as const),
      timeout,
    ]);
    if (outcome !== 'joined') {
      await this.stop();
      throw new Error(`the service did not join its group (${outcome}): ${this.logTail()}`);
    }
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  logTail(lines = 8): string {
    return JSON.stringify(this.logs.slice(-lines));
  }

  /** SIGTERM, as an orchestrator would; the graceful stop also writes the CPU profile. */
  async stop(): Promise<number | null> {
    if (this.sampler) clearInterval(this.sampler);
    if (!this.child || !this.exited) return null;
    await this.sampleMemory();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child?.kill('SIGKILL'), 30_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(killer);
    }
  }

  private async sampleMemory(): Promise<void> {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const rss = kibOf(status, 'VmRSS');
      const peak = kibOf(status, 'VmHWM');
      if (rss === undefined) return;
      // VmHWM keeps the start-up peak; the timeline starts when the service is at work.
      this.peakRssMiB = Math.max(this.peakRssMiB, (peak ?? rss) / 1024);
      if (this.joinedAt > 0)
        this.memory.push({ atMs: performance.now() - this.joinedAt, rssMiB: rss / 1024 });
    } catch {
      // The process is gone, or this is not Linux: no sample.
    }
  }
}

function kibOf(status: string, field: string): number | undefined {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : undefined;
}

function parseLogLine(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { msg: line };
  }
}
