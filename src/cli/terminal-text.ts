/**
 * Bytes a producer chose (keys, header names and values, payloads) are shown to operators on a
 * terminal, which obeys control characters: an ESC sequence in a key could recolour, retitle or
 * rewrite the screen, or hide a line. Every such text goes through `terminalSafe` before it is
 * printed, and through `terminalSafeJson` in --json output.
 */

/**
 * C0 controls and DEL, C1 controls (U+0080-U+009F; U+009B is a one-character CSI), the
 * bidirectional overrides and isolates that reorder what is shown (U+202A-U+202E,
 * U+2066-U+2069), line and paragraph separators, and the backslash that starts our escapes.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\\]/gu;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' };

function escapeCharacter(character: string): string {
  const named = NAMED[character];
  if (named !== undefined) return named;
  const code = character.codePointAt(0) ?? 0;
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** The text with every character a terminal would act on shown as an escape (`\x1b`, `\n`). */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, escapeCharacter);
}

/** JSON that is safe to print: JSON.stringify escapes C0 controls, this also C1 and bidi. */
export function terminalSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu,
    (character) => `\\u${(character.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
  );
}
