import { type ParseArgsConfig, parseArgs } from 'node:util';

/** A mistake in the command line: reported as one line, exit code 2, nothing done. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A configuration problem: every problem on its own line, exit code 78 (EX_CONFIG). */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.problems = problems;
  }
}

/** node:util parseArgs, with its errors turned into one-line usage errors. */
export function parseCommandLine<T extends ParseArgsConfig['options']>(
  args: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0] ?? 'invalid arguments');
  }
}
