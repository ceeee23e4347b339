/**
 * Rows of cells as a fixed-width text table for a terminal: columns padded to their widest cell,
 * two spaces apart, trailing spaces trimmed. Pure.
 * @example textTable([['id', 'score'], ['a', '0.9']]) // 'id  score\na   0.9'
 */
export function textTable(rows: readonly (readonly string[])[]): string {
  const widths = (rows[0] ?? []).map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
