import { type ParseArgsConfig, parseArgs } from 'node:util';
import { distance } from 'fastest-levenshtein';

/** A mistake in the command line: reported as one line, exit code 2, nothing done. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A mistake in the options or arguments themselves: the CLI adds which --help to read. */
export class OptionError extends UsageError {
  override name = 'OptionError';
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

/**
 * The candidate closest to a mistyped `input`, if it is close enough to be what was meant: at
 * most a third of its letters wrong (and at least one may be), or `input` is a prefix of it.
 */
export function closestMatch(input: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const apart =
      candidate.startsWith(input) && input.length >= 3 ? 0.5 : distance(input, candidate);
    if (best === undefined || apart < best.distance) best = { candidate, distance: apart };
  }
  if (best === undefined) return undefined;
  return best.distance <= Math.max(1, Math.floor(best.candidate.length / 3))
    ? best.candidate
    : undefined;
}

/** `; did you mean --limit?`, or nothing. */
export function didYouMean(input: string, candidates: readonly string[]): string {
  const match = closestMatch(input, candidates);
  return match === undefined ? '' : `; did you mean ${match}?`;
}

type ParseError = Error & { code?: string };

/**
 * node:util parseArgs, with its errors said in our words, on one line, with a suggestion for
 * a mistyped option (the CLI's entry point adds which --help to read).
 */
export function parseCommandLine<T extends ParseArgsConfig['options']>(
  args: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    throw new OptionError(usageProblem(error as ParseError, options ?? {}));
  }
}

/** `tenants: expected 'set' or 'list', got 'lst'; did you mean list?` */
export function unknownAction(
  command: string,
  actions: readonly string[],
  got: string | undefined,
) {
  const expected = actions.map((action) => `'${action}'`);
  const list = `${expected.slice(0, -1).join(', ')} or ${expected.at(-1)}`;
  return new UsageError(
    `${command}: expected ${list}, got ${got === undefined ? 'nothing' : `'${got}'${didYouMean(got, actions)}`}`,
  );
}

function usageProblem(error: ParseError, options: NonNullable<ParseArgsConfig['options']>): string {
  const names = Object.keys(options).map((name) => `--${name}`);
  const quoted = /'([^']*)'/.exec(error.message)?.[1] ?? '';
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const option = quoted.split('=')[0] ?? quoted;
      return `unknown option ${option}${didYouMean(option, names)}`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const option = /--[a-z-]+/.exec(error.message)?.[0] ?? quoted;
      const definition = options[option.replace(/^--/, '')];
      return definition?.type === 'boolean'
        ? `${option} takes no value`
        : `${option} needs a value`;
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument '${quoted}'`;
    default:
      return error.message.split('\n')[0] ?? 'invalid arguments';
  }
}
