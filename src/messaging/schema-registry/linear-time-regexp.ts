/**
 * The regular-expression engine Ajv runs JSON Schema `pattern`, `patternProperties` and
 * `propertyNames` with, for schemas that come from the registry (SPEC §4.4: decoding is
 * bounded in time). V8's own engine backtracks: `^(a|a)*$` takes 1.6 s on 27 characters and
 * doubles with every further one, freezing the event loop (heartbeats stop, the group
 * rebalances onto the next replica). RE2 cannot backtrack: its work is at most linear in the
 * size of the compiled pattern times the length of the text.
 *
 * re2js, the pure-JavaScript port of RE2/J, rather than `re2` (native: its install downloads a
 * prebuilt binary from outside the npm registry, or compiles RE2 and Abseil from source) or
 * `re2-wasm` (unmaintained since 2021). RE2 has no lookaround and no backreferences: a schema
 * using them cannot be compiled, and its messages are dead-lettered saying so, rather than run
 * on a backtracking engine. JSON Schema itself recommends patterns without them for
 * interoperability (2020-12 Validation, §4.3: "Regular Expressions").
 *
 * Linear is not yet bounded: a schema can apply many large patterns to a long string. Every
 * match is charged its worst case, pattern size × (text length + 1), to a meter that the caller
 * resets per message; past its budget the match throws PatternWorkExceeded instead of running.
 * That is a deterministic bound: no clock, the same answer on a loaded machine.
 */
import { RE2JS } from 're2js';

/** The RegExpEngine shape Ajv's `code.regExp` option takes. */
export interface RegExpEngine {
  (pattern: string, flags: string): { test(text: string): boolean };
  code: string;
}

/**
 * Units of pattern work one message may cost: re2js's slowest matching measured here takes
 * ~10 ns a unit, so ~0.1 s at most; the shipped request schema needs well under 1 % of it.
 */
export const PATTERN_WORK_BUDGET = 10_000_000;

/** The regular-expression work spent on the current message. */
export class PatternWorkMeter {
  spent = 0;
  readonly budget: number;

  constructor(budget: number = PATTERN_WORK_BUDGET) {
    this.budget = budget;
  }

  reset(): void {
    this.spent = 0;
  }

  charge(units: number): void {
    this.spent += units;
    if (this.spent > this.budget) throw new PatternWorkExceeded(this.budget);
  }
}

/** Thrown from inside a validation that would cost more pattern work than its budget. */
export class PatternWorkExceeded extends Error {
  constructor(budget: number) {
    super(`the schema's patterns would cost more than ${budget} units of work on this value`);
    this.name = 'PatternWorkExceeded';
  }
}

/** How an UnsupportedPattern's message starts: it survives the libraries that rewrap errors. */
export const UNSUPPORTED_PATTERN = 'a pattern the linear-time engine cannot run';

/** Thrown while compiling a schema whose pattern RE2 cannot run. */
export class UnsupportedPattern extends Error {
  constructor(pattern: string, cause: unknown) {
    const clipped = pattern.length > 80 ? `${pattern.slice(0, 80)}…` : pattern;
    super(
      `${UNSUPPORTED_PATTERN} (lookaround, backreference, or invalid): ${JSON.stringify(clipped)}`,
      { cause },
    );
    this.name = 'UnsupportedPattern';
  }
}

export function createLinearTimeRegExpEngine(meter: PatternWorkMeter): RegExpEngine {
  const engine = (pattern: string, flags: string) => {
    let compiled: RE2JS;
    try {
      // Ajv passes "u" (unicodeRegExp, its default) or nothing: RE2 always matches code points.
      if (flags !== '' && flags !== 'u') throw new Error(`unexpected flags ${flags}`);
      compiled = RE2JS.compile(withEcmaScriptClasses(RE2JS.translateRegExp(pattern)));
    } catch (error) {
      throw new UnsupportedPattern(pattern, error);
    }
    const size = compiled.programSize();
    return {
      test(text: string): boolean {
        meter.charge(size * (text.length + 1));
        return compiled.test(text);
      },
      // Ajv keys its cache of compiled patterns by this.
      toString: () => `/${pattern}/${flags}`,
    };
  };
  // Only used by Ajv's standalone code generation, which the service does not use.
  engine.code = 're2js';
  return engine;
}

/** ECMAScript's \s: WhiteSpace and LineTerminator (ECMA-262 §22.2.2.9), where RE2's is ASCII. */
const ECMASCRIPT_SPACE =
  '\\t\\n\\x{0B}\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}';
/** ECMAScript's `.` without the s flag: anything but a line terminator, where RE2's excludes \n only. */
const ECMASCRIPT_DOT = '[^\\n\\r\\x{2028}\\x{2029}]';

/**
 * `\s`, `\S` and `.` as ECMAScript means them (JSON Schema patterns are ECMA-262 regular
 * expressions): rewritten into explicit classes in a pattern already in RE2 syntax. `\S` inside a class is
 * left to RE2 (ASCII): a complement inside a class has no RE2 spelling.
 */
export function withEcmaScriptClasses(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let index = 0; index < pattern.length; index += 1) {
    const char = pattern[index];
    if (char === '\\' && index + 1 < pattern.length) {
      const next = pattern[index + 1];
      index += 1;
      if (next === 's') out += inClass ? ECMASCRIPT_SPACE : `[${ECMASCRIPT_SPACE}]`;
      else if (next === 'S' && !inClass) out += `[^${ECMASCRIPT_SPACE}]`;
      else out += `\\${next}`;
    } else if (inClass) {
      if (char === ']') inClass = false;
      out += char;
    } else if (char === '[') {
      inClass = true;
      out += char;
    } else {
      out += char === '.' ? ECMASCRIPT_DOT : char;
    }
  }
  return out;
}
