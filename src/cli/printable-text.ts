/**
 * Characters a terminal acts on instead of showing: C0 and C1 controls (ESC starts the escape
 * sequences that move the cursor, recolour or retitle the window), DEL, the bidirectional
 * overrides that make text read differently from its bytes, and unpaired UTF-16 surrogates.
 */
const UNPRINTABLE = new RegExp(
  [
    '[\\u0000-\\u001f\\u007f-\\u009f\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]',
    '[\\ud800-\\udbff](?![\\udc00-\\udfff])',
    '(?<![\\ud800-\\udbff])[\\udc00-\\udfff]',
  ].join('|'),
  'g',
);

/**
 * Text from producers or stored data made safe to print on an operator's terminal: every
 * character above is written as an escape (`\x1b`, `\u202e`), so what is shown is what is
 * there and nothing a producer sent can drive the terminal. Printable text is unchanged.
 */
export function printableText(text: string): string {
  return text.replace(UNPRINTABLE, (character) => {
    const code = character.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
