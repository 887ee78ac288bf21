/**
 * Rows as the operator commands print them (`dlq list`, `explain`): columns padded to their
 * widest cell, two spaces apart, no trailing blanks. Cells that came from producers or stored
 * data must be made terminal-safe first (terminal-text.ts), so that widths count what is shown.
 */
export function alignedTable(rows: ReadonlyArray<readonly string[]>): string[] {
  const columns = Math.max(0, ...rows.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, column) =>
    Math.max(...rows.map((row) => (row[column] ?? '').length)),
  );
  return rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

/** `name  value` lines with the names in one column, as `dlq show` prints a letter. */
export function alignedPairs(
  pairs: ReadonlyArray<readonly [string, string | undefined]>,
  nameWidth = 16,
): string[] {
  return pairs.flatMap(([name, value]) =>
    value === undefined ? [] : [`${name.padEnd(nameWidth)} ${value}`],
  );
}
