/**
 * Progress for long operations, always on stderr so stdout stays machine-readable. On a
 * terminal: a bar redrawn in place (when the total is known; a counter otherwise). Elsewhere
 * (CI=true, pipes, files): a plain line every few seconds and at each tenth of a known total,
 * so a log shows progress without drowning in it.
 */
export interface Progress {
  update(done: number, note?: string): void;
  /** the total became known, or changed */
  setTotal(total: number): void;
  /** prints `<label>: <summary>` on a line of its own */
  finish(summary: string): void;
}

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** `CI` in the environment turns the bar into plain lines even on a terminal */
  env?: Record<string, string | undefined>;
  /** the least time between two plain lines */
  plainIntervalMs?: number;
  now?: () => number;
  /** how amounts are written, e.g. as bytes; plain numbers otherwise */
  format?: (amount: number) => string;
}

export function createProgress(
  label: string,
  total?: number,
  options: ProgressOptions = {},
): Progress {
  const stream = options.stream ?? process.stderr;
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now;
  const plainIntervalMs = options.plainIntervalMs ?? 2_000;
  const interactive = stream.isTTY === true && !isCi(env.CI);
  const startedAt = now();
  let knownTotal = total;
  let lastPrintedAt = Number.NEGATIVE_INFINITY;
  let lastTenth = 0;
  let drawn = false;

  return {
    update(done, note) {
      const at = now();
      const line = renderProgress({
        label,
        done,
        ...(knownTotal !== undefined ? { total: knownTotal } : {}),
        elapsedMs: at - startedAt,
        ...(note !== undefined ? { note } : {}),
        bar: interactive,
        ...(options.format ? { format: options.format } : {}),
        width: interactive ? (stream.columns ?? 80) : Number.POSITIVE_INFINITY,
      });
      if (interactive) {
        if (at - lastPrintedAt < 100) return;
        stream.write(`\r\x1b[K${line}`);
        drawn = true;
      } else {
        const tenth =
          knownTotal !== undefined && knownTotal > 0 ? Math.floor((done * 10) / knownTotal) : 0;
        if (at - lastPrintedAt < plainIntervalMs && tenth <= lastTenth) return;
        lastTenth = Math.max(lastTenth, tenth);
        stream.write(`${line}\n`);
      }
      lastPrintedAt = at;
    },
    setTotal(newTotal) {
      knownTotal = newTotal;
    },
    finish(summary) {
      stream.write(`${drawn ? '\r\x1b[K' : ''}${label}: ${summary}\n`);
    },
  };
}

function isCi(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

export interface ProgressLine {
  label: string;
  done: number;
  total?: number;
  elapsedMs: number;
  note?: string;
  /** draw a bar (terminals) rather than plain text */
  bar: boolean;
  /** terminal columns; the line is cut to fit */
  width: number;
  format?: (amount: number) => string;
}

/** One progress line: `label [#####-----] 50% 500/1000 250/s eta 2s note`. Pure. */
export function renderProgress(line: ProgressLine): string {
  const seconds = line.elapsedMs / 1000;
  const rate = seconds > 0 ? Math.round(line.done / seconds) : 0;
  const format = line.format ?? String;
  const parts: string[] = [`${line.label}:`];
  if (line.total !== undefined && line.total > 0) {
    const fraction = Math.min(1, Math.max(0, line.done / line.total));
    if (line.bar) {
      const cells = 24;
      const filled = Math.round(fraction * cells);
      parts.push(`[${'#'.repeat(filled)}${'-'.repeat(cells - filled)}]`);
    }
    parts.push(`${Math.floor(fraction * 100)}%`, `${format(line.done)}/${format(line.total)}`);
    parts.push(`${format(rate)}/s`);
    if (rate > 0 && line.done < line.total)
      parts.push(`eta ${formatDuration((line.total - line.done) / rate)}`);
  } else {
    parts.push(format(line.done), `${format(rate)}/s`);
  }
  if (line.note) parts.push(line.note);
  const text = parts.join(' ');
  return text.length > line.width ? text.slice(0, Math.max(0, line.width - 1)) : text;
}

export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.round(totalSeconds));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** `12.3 MB`: decimal units, as file managers show sizes. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
