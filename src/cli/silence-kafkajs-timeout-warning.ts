/**
 * kafkajs 2.2.4 arms a timer with a negative delay when a broker has never throttled it
 * (`throttledUntil` is -1); Node 24+ warns about it once per process. It is harmless and
 * kafkajs is unmaintained, so this one warning is dropped; every other warning still shows.
 */
export function silenceKafkajsTimeoutWarning(): void {
  const emitWarning = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const name = typeof warning === 'string' ? rest[0] : warning.name;
    const type =
      typeof name === 'object' && name !== null ? (name as { type?: string }).type : name;
    if (type === 'TimeoutNegativeWarning') return;
    (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}
