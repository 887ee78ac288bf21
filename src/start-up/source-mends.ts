import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { join } from 'node:path';

/** One change to a dependency's source: the text as released, and the text run instead. */
export type SourceFix = readonly [broken: string, mended: string];

/** What a dependency's file runs instead of its source: for the files `matches` names. */
export interface SourceMend {
  matches(url: string): boolean;
  mend(source: string): string;
}

/** How many of `fixes` neither apply to nor are already in `source`. */
export function unappliedFixes(source: string, fixes: readonly SourceFix[]): number {
  return fixes.filter(([broken, mended]) => !source.includes(mended) && !source.includes(broken))
    .length;
}

/**
 * `source` with each fix applied once: applying them to mended source changes nothing. Throws
 * `onMismatch()` when a fix applies to neither form, so nothing runs half-mended.
 */
export function applyFixes(
  source: string,
  fixes: readonly SourceFix[],
  onMismatch: () => Error,
): string {
  if (unappliedFixes(source, fixes) > 0) throw onMismatch();
  let mended = source;
  for (const [broken, fixed] of fixes) {
    if (!mended.includes(fixed)) mended = mended.replace(broken, fixed);
  }
  return mended;
}

/**
 * Mends the matching files as they load, whether imported or required. The caller checks
 * first that every fix applies (so a mismatch is one line at start-up, not a throw from a
 * loader deep inside some import).
 */
export function registerSourceMends(mends: readonly SourceMend[]): void {
  registerHooks({
    load(url, context, nextLoad) {
      const result = nextLoad(url, context);
      if (result.source === undefined || result.source === null) return result;
      const matching = mends.find((mend) => mend.matches(url));
      if (matching === undefined) return result;
      return { ...result, source: matching.mend(String(result.source)) };
    },
  });
}

/** The version a package's manifest in `directory` names, for the one-line refusals. */
export function packageVersion(directory: string): string {
  try {
    const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8'));
    return typeof manifest.version === 'string' ? manifest.version : 'of unknown version';
  } catch {
    return 'of unknown version';
  }
}
