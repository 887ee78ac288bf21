/**
 * Progress for long operations: a line rewritten in place on a terminal, plain lines at most
 * every few seconds otherwise (CI, pipes), always on stderr so stdout stays machine-readable.
 */
export interface Progress {
  update(done: number, note?: string): void;
  finish(summary: string): void;
}

export function createProgress(
  label: string,
  total?: number,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  const interactive = stream.isTTY === true && process.env.CI === undefined;
  const startedAt = Date.now();
  let lastPrinted = 0;
  const line = (done: number, note?: string) => {
    const seconds = (Date.now() - startedAt) / 1000;
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    const of = total !== undefined ? `/${total}` : '';
    return `${label}: ${done}${of} (${rate}/s)${note ? ` ${note}` : ''}`;
  };
  return {
    update(done, note) {
      const now = Date.now();
      if (interactive) {
        if (now - lastPrinted < 100) return;
        stream.write(`\r\x1b[K${line(done, note)}`);
      } else {
        if (now - lastPrinted < 2_000) return;
        stream.write(`${line(done, note)}\n`);
      }
      lastPrinted = now;
    },
    finish(summary) {
      stream.write(`${interactive ? '\r\x1b[K' : ''}${label}: ${summary}\n`);
    },
  };
}
