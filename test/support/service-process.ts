import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerCleanup } from './cleanup.ts';
import { registerDiagnostics } from './diagnostics.ts';
import type { TestTopics } from './test-environment.ts';
import { testInfrastructure, uniqueName } from './test-environment.ts';
import { waitFor } from './wait-for.ts';

const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));
/** Every service a test starts logs here too, one file per launch, kept after the run. */
const LOG_DIR = fileURLToPath(new URL('../../.tmp/test-logs/', import.meta.url));
const TEST_FILE = basename(process.argv[1] ?? 'test', '.test.ts');
/** How many of a service's last log lines a failing wait prints. */
const DIAGNOSTIC_LINES = 8;

export interface ServiceProcessOptions {
  databaseUrl: string;
  topics: TestTopics;
  groupId?: string;
  env?: Record<string, string>;
}

/**
 * The real service as a child process (`customer-sync run`), so tests can SIGTERM and SIGKILL
 * it like an orchestrator would. Its JSON log lines are kept for assertions.
 */
export class ServiceProcess {
  readonly logs: Array<Record<string, unknown>> = [];
  readonly groupId: string;
  private child: ChildProcess | undefined;
  private launches = 0;
  private logFile: string | undefined;
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  private readonly options: ServiceProcessOptions;

  constructor(options: ServiceProcessOptions) {
    this.options = options;
    this.groupId = options.groupId ?? uniqueName('customer-sync');
    registerCleanup(() => this.kill('SIGKILL'));
    registerDiagnostics(() => this.describe());
  }

  /** Its state for a failing test's message: alive or how it exited, its log file and tail. */
  describe(): string {
    if (!this.child) return `service ${this.groupId}: never launched`;
    const state = this.hasExited()
      ? `exited (code ${this.child.exitCode}, signal ${this.child.signalCode})`
      : 'running';
    const tail = this.logs
      .slice(-DIAGNOSTIC_LINES)
      .map((line) => JSON.stringify(line).slice(0, 400));
    return [
      `service ${this.groupId} launch ${this.launches} (pid ${this.child.pid}): ${state}; ${this.logs.length} log lines in ${this.logFile}; last:`,
      ...tail,
    ].join('\n');
  }

  env(): Record<string, string> {
    const { kafkaBrokers } = testInfrastructure();
    return {
      KAFKA_BROKERS: kafkaBrokers,
      KAFKA_GROUP_ID: this.groupId,
      DATABASE_URL: this.options.databaseUrl,
      TOPIC_UPDATE_REQUESTED: this.options.topics.updateRequested,
      TOPIC_CUSTOMER_UPDATED: this.options.topics.customerUpdated,
      TOPIC_DEAD_LETTER: this.options.topics.deadLetter,
      HTTP_PORT: '0',
      LOG_LEVEL: 'info',
      RETRY_INITIAL_DELAY_MS: '100',
      RETRY_MAX_DELAY_MS: '1000',
      OUTBOX_POLL_INTERVAL_MS: '50',
      SHUTDOWN_TIMEOUT_MS: '20000',
      // The lending-system simulator of the tests serves plain HTTP.
      LENDING_API_ALLOW_INSECURE_HTTP: 'true',
      ...this.options.env,
    };
  }

  /** Starts the process and waits until it has joined its consumer group. */
  async start(): Promise<this> {
    this.launch();
    const joinedBefore = this.countLogs('joined the consumer group');
    await waitFor(
      `the service to join its consumer group (log tail: ${JSON.stringify(this.logs.slice(-5))})`,
      () => this.countLogs('joined the consumer group') > joinedBefore || this.hasExited(),
      { timeoutMs: 90_000 },
    );
    if (this.hasExited())
      throw new Error(`the service exited at start: ${JSON.stringify(this.logs.slice(-10))}`);
    return this;
  }

  /** Starts the process without waiting for anything: to signal it while it is starting up. */
  launch(): this {
    const child = spawn(process.execPath, [BIN, 'run'], {
      env: { PATH: process.env.PATH ?? '', ...this.env() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.launches++;
    mkdirSync(LOG_DIR, { recursive: true });
    this.logFile = join(LOG_DIR, `${TEST_FILE}.${this.groupId}.${this.launches}.log`);
    const logFile = this.logFile;
    const keep = (text: string) => appendFileSync(logFile, text);
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      keep(chunk.toString('utf8'));
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        try {
          this.logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.logs.push({ msg: line });
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      keep(chunk.toString('utf8'));
      this.logs.push({ stderr: chunk.toString('utf8') });
    });
    return this;
  }

  countLogs(message: string): number {
    return this.logs.filter((line) => line.msg === message).length;
  }

  hasExited(): boolean {
    return (
      this.child !== undefined && (this.child.exitCode !== null || this.child.signalCode !== null)
    );
  }

  /** Sends a signal and waits for the process to exit. */
  async kill(
    signal: NodeJS.Signals,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    if (!this.child || !this.exited) return undefined;
    if (!this.hasExited()) this.child.kill(signal);
    return this.exited;
  }
}
