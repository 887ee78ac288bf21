import {
  DependencyMisconfiguredError,
  DependencyUnavailableError,
} from '../application/wait-for-dependency.ts';
import { ConfigurationError, UsageError } from './usage-error.ts';

/** sysexits.h: EX_USAGE, EX_UNAVAILABLE, EX_CONFIG. */
export const EXIT_USAGE = 2;
export const EXIT_UNAVAILABLE = 69;
export const EXIT_CONFIG = 78;

/**
 * Writes why a command failed to stderr, as few lines as it takes (one, except for a
 * configuration with several problems), and returns the exit code that says what kind of
 * failure it was.
 */
export function reportFailure(
  error: unknown,
  write = (line: string) => process.stderr.write(line),
): number {
  if (error instanceof UsageError) {
    write(`customer-sync: ${error.message}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof ConfigurationError) {
    for (const problem of error.problems) write(`customer-sync: configuration: ${problem}\n`);
    return EXIT_CONFIG;
  }
  if (error instanceof DependencyMisconfiguredError) {
    write(`customer-sync: ${error.message}\n`);
    return EXIT_CONFIG;
  }
  if (error instanceof DependencyUnavailableError) {
    write(`customer-sync: ${error.message}\n`);
    return EXIT_UNAVAILABLE;
  }
  const { name: kind, code } = error as { name?: string; code?: string };
  write(
    `customer-sync: failed: ${kind ?? 'error'}${code ? ` (${code})` : ''}: ${(error as Error).message}\n`,
  );
  return 1;
}
