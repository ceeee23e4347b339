import { textTable } from '../text-table.ts';
import type { CatalogEntry } from './types.ts';
import { MODEL_TYPES } from './types.ts';

export const LIST_FORMATS = ['table', 'markdown', 'json'] as const;
export type ListFormat = (typeof LIST_FORMATS)[number];

const COLUMNS = ['Model ID', 'Type', 'Dimension', 'File', 'Default', 'Description'] as const;

/** The vector size, and the smaller sizes a Matryoshka model was trained at (the `dimensions` field). */
function dimensionCell(entry: CatalogEntry): string {
  if (entry.dimension === null) return '-';
  const smaller = entry.matryoshka?.dimensions.filter((size) => size < (entry.dimension ?? 0)) ?? [];
  return smaller.length ? `${entry.dimension} (Matryoshka: ${smaller.join('/')})` : String(entry.dimension);
}

function cells(entry: CatalogEntry): string[] {
  return [entry.id, entry.type, dimensionCell(entry), entry.file, entry.isDefault ? 'yes' : '', entry.description];
}

/**
 * Renders catalog rows: `markdown` a GitHub table per model type (what the README's tables are
 * generated from), `table` fixed-width text, `json` the rows themselves. Deterministic.
 */
export function formatModelList(entries: readonly CatalogEntry[], format: ListFormat): string {
  if (format === 'json') return JSON.stringify(entries, null, 2);
  if (format === 'markdown') {
    return MODEL_TYPES.filter((type) => entries.some((entry) => entry.type === type))
      .map((type) => {
        const rows = entries
          .filter((entry) => entry.type === type)
          .map(
            (entry) =>
              `| ${cells(entry)
                .map((cell) => cell.replaceAll('|', '\\|'))
                .join(' | ')} |`,
          );
        return [`### ${type}`, '', `| ${COLUMNS.join(' | ')} |`, `|${COLUMNS.map(() => '---').join('|')}|`, ...rows].join('\n');
      })
      .join('\n\n');
  }
  return textTable([[...COLUMNS], ...entries.map(cells)]);
}
