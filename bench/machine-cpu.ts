import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: 100 on every Linux architecture Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;
const SAMPLE_INTERVAL_MS = 250;

/** Who used the machine's CPU during a phase. */
export type CpuUser = 'service' | 'bench' | 'postgres' | 'kafka' | 'peer' | 'other';
export type CpuSeconds = Record<CpuUser, number>;

/** CPU time (user + system, all threads) of one process so far, from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    // Fields 14 and 15 (utime, stime) in clock ticks, counted after the ')' of the name.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined; // gone, or not Linux
  }
}

/**
 * Where the whole machine's CPU goes while a phase runs: the service, this process (the
 * ceiling's write path, or the benchmark's own polling), Postgres (every backend, the
 * checkpointer, ...), the Kafka broker, the peer (a Kafka Connect worker), and everything else. On a machine whose cores are all
 * busy, this is what limits throughput: the sum per event says how many events per second the
 * cores can carry at most. Linux only (/proc); elsewhere every figure stays 0.
 *
 * Processes are sampled every 250 ms; one that ends between two samples loses at most its last
 * quarter second, and one that starts is counted from zero.
 */
export class MachineCpu {
  private readonly seen = new Map<number, { user: CpuUser; seconds: number }>();
  private readonly totals: CpuSeconds = {
    service: 0,
    bench: 0,
    postgres: 0,
    kafka: 0,
    peer: 0,
    other: 0,
  };
  private timer: NodeJS.Timeout | undefined;
  private readonly servicePids: () => ReadonlyArray<number | undefined>;

  /** `servicePids`: the service processes (one, or the replicas of the relay phase) */
  constructor(servicePids: () => ReadonlyArray<number | undefined> = () => []) {
    this.servicePids = servicePids;
  }

  start(): this {
    this.sample(true);
    this.timer = setInterval(() => this.sample(false), SAMPLE_INTERVAL_MS);
    return this;
  }

  stop(): CpuSeconds {
    if (this.timer) clearInterval(this.timer);
    this.sample(false);
    return { ...this.totals };
  }

  private sample(baseline: boolean): void {
    let pids: number[];
    try {
      pids = readdirSync('/proc')
        .filter((name) => /^\d+$/.test(name))
        .map(Number);
    } catch {
      return;
    }
    for (const pid of pids) {
      const seconds = processCpuSeconds(pid);
      if (seconds === undefined) continue;
      const known = this.seen.get(pid);
      const user = known?.user ?? this.classify(pid);
      if (!baseline) this.totals[user] += seconds - (known?.seconds ?? 0);
      this.seen.set(pid, { user, seconds });
    }
  }

  private classify(pid: number): CpuUser {
    if (pid === process.pid) return 'bench';
    if (this.servicePids().includes(pid)) return 'service';
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      if (comm === 'postgres') return 'postgres';
      const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (commandLine.includes('ConnectStandalone')) return 'peer';
      if (commandLine.includes('kafka.Kafka')) return 'kafka';
    } catch {
      // gone already
    }
    return 'other';
  }
}
