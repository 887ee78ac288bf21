/**
 * What a failing test prints so that it can be diagnosed from the CI output alone, without a
 * rerun: every live fixture (a service process, a recorder) registers a description of its own
 * state, and a `waitFor` that times out appends all of them to its error.
 */
const providers = new Map<number, () => string>();
let nextId = 0;

/** Registers `describe` until the returned function is called (or the test file ends). */
export function registerDiagnostics(describe: () => string): () => void {
  const id = nextId++;
  providers.set(id, describe);
  return () => providers.delete(id);
}

/** Each registered description on lines of its own, indented; empty when there are none. */
export function describeTestState(): string {
  const lines: string[] = [];
  for (const describe of providers.values()) {
    try {
      lines.push(describe());
    } catch (error) {
      lines.push(`(a diagnostic failed: ${String(error)})`);
    }
  }
  return lines.map((line) => `\n  ${line.replaceAll('\n', '\n    ')}`).join('');
}
