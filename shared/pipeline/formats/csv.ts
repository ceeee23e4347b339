import { InvalidInputDataError } from '../../errors.ts';
import { decodeUtf8 } from '../../storage/s3.ts';
import { CsvColumnNotFoundError, EmptyDocumentError } from '../errors.ts';
import type { DocumentOptions, TextItem } from './types.ts';

/**
 * A CSV file's rows, one text each (`item` 0-based, `row` the 1-based data row; the first record
 * is the header). A row's text is its `header: value` lines (empty values left out), or only the
 * value of the column `options.csvTextColumn` names. csv-parse is imported on the first file.
 * @example await readCsv(utf8('name,city\nAda,London\n'), 's3://b/people.csv', {}) // [{ text: 'name: Ada\ncity: London', item: 0, row: 1 }]
 */
export function readCsv(bytes: Uint8Array, source: string, options: DocumentOptions): Promise<TextItem[]> {
  return readDelimited(bytes, source, options, ',');
}

/** A TSV file's rows, as readCsv reads a CSV file's. */
export function readTsv(bytes: Uint8Array, source: string, options: DocumentOptions): Promise<TextItem[]> {
  return readDelimited(bytes, source, options, '\t');
}

async function readDelimited(bytes: Uint8Array, source: string, options: DocumentOptions, delimiter: string): Promise<TextItem[]> {
  const content = decodeUtf8(bytes, source);
  const { parse } = await import('csv-parse/sync');
  let records: string[][];
  try {
    // Every record must have the header's number of fields (a missing or extra delimiter would
    // put values under the wrong header); a quote inside an unquoted field is text ("5" wide").
    records = parse(content, { delimiter, bom: true, skip_empty_lines: true, relax_quotes: true });
  } catch (cause) {
    const { message, lines } = cause as { message?: string; lines?: number };
    throw new InvalidInputDataError(`${source} cannot be parsed as ${delimiter === ',' ? 'CSV' : 'TSV'}: ${message ?? String(cause)}.`, {
      cause,
      ...(typeof lines === 'number' ? { details: { line: lines } } : {}),
    });
  }
  const [header, ...rows] = records;
  if (!header || rows.length === 0)
    throw new EmptyDocumentError(`${source} has no data rows (a header line, then one line per row, is expected).`);
  const names = header.map((name, index) => name.trim() || `column ${index + 1}`);
  const textOf = rowText(names, options.csvTextColumn, source);
  return rows.map((values, index) => ({ text: textOf(values), item: index, row: index + 1 }));
}

/** How a row becomes text: one column's value, or every non-empty value under its header. */
function rowText(names: readonly string[], column: string | undefined, source: string): (values: readonly string[]) => string {
  if (column === undefined) {
    return (values) => values.flatMap((value, index) => (value.trim() ? [`${names[index]}: ${value.trim()}`] : [])).join('\n');
  }
  const index = names.indexOf(column);
  if (index < 0) {
    throw new CsvColumnNotFoundError(
      `${source} has no column ${JSON.stringify(column)} (CSV_TEXT_COLUMN); its header has ${names.map((name) => JSON.stringify(name)).join(', ')}.`,
      { details: { column, columns: names } },
    );
  }
  return (values) => values[index];
}
