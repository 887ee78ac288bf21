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
 * Writes why a command failed to stderr when the failure is one of ours (a usage, configuration
 * or dependency error, whose messages name variables and addresses, never values), as few lines
 * as it takes, and returns the exit code that says what kind it was; undefined for any other
 * failure, which the caller logs through its logger (a driver's error may carry values).
 */
export function reportKnownFailure(
  error: unknown,
  write = (line: string) => process.stderr.write(line),
): number | undefined {
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
  return undefined;
}

/**
 * The same for the dev tools (`npm run dev`, the compose set-up job), which have no logger of
 * their own: any other failure is one line with its kind and code, not its message.
 */
export function reportFailure(error: unknown): number {
  const known = reportKnownFailure(error);
  if (known !== undefined) return known;
  const { name: kind, code } = error as { name?: string; code?: string };
  process.stderr.write(`customer-sync: failed: ${kind ?? 'error'}${code ? ` (${code})` : ''}\n`);
  return 1;
}
