/**
 * Ctrl-C for long operations: the first SIGINT (or SIGTERM) asks the operation to stop at its
 * next safe point, where everything done so far is committed and a rerun can finish the rest;
 * a second one exits at once, which is still safe (nothing is half-committed) but may repeat
 * the last batch on the rerun.
 */
export interface Interruption {
  signal: AbortSignal;
  dispose(): void;
}

export const EXIT_INTERRUPTED = 130;

export function stopOnInterrupt(
  label: string,
  stream: NodeJS.WritableStream = process.stderr,
): Interruption {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) {
      stream.write(`\n${label}: stopped at once\n`);
      process.exit(EXIT_INTERRUPTED);
    }
    stream.write(`\n${label}: stopping after the current batch (Ctrl-C again to quit now)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
