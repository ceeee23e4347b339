import { InvalidInputDataError } from '../errors.ts';
import { decodeUtf8 } from '../storage/s3.ts';
import { EmptyDocumentError, UnsupportedFileTypeError } from './errors.ts';
import { readCsv, readTsv } from './formats/csv.ts';
import { readDocx } from './formats/docx.ts';
import { readHtml } from './formats/html.ts';
import { readPdf } from './formats/pdf.ts';
import type { DocumentOptions, DocumentReader, TextItem } from './formats/types.ts';

export type { DocumentOptions, TextItem } from './formats/types.ts';

/** Files whose text a parser extracts (each parser is loaded on the first file of its type). */
export const DOCUMENT_EXTENSIONS = ['.pdf', '.html', '.htm', '.docx', '.csv', '.tsv'] as const;
/** Every type a text model embeds: UTF-8 text and JSON, and the documents above. */
export const TEXT_EXTENSIONS = ['.txt', '.md', '.json', '.jsonl', ...DOCUMENT_EXTENSIONS] as const;
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif'] as const;

function extensionOf(key: string): string {
  const dot = key.lastIndexOf('.');
  return dot > key.lastIndexOf('/') ? key.slice(dot).toLowerCase() : '';
}

function itemText(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { text?: unknown }).text === 'string') {
    return (value as { text: string }).text;
  }
  throw new InvalidInputDataError(`${where} is neither a string nor an object with a "text" string field.`);
}

function jsonItems(content: string, source: string): TextItem[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch (cause) {
    throw new InvalidInputDataError(`${source} is not valid JSON (${(cause as Error).message}).`, { cause });
  }
  if (!Array.isArray(parsed)) {
    throw new InvalidInputDataError(`${source} must hold a JSON array of strings or of objects with a "text" field.`);
  }
  return parsed.map((value, item) => ({ text: itemText(value, `${source} item ${item}`), item }));
}

function jsonlItems(content: string, source: string): TextItem[] {
  const items: TextItem[] = [];
  content.split('\n').forEach((line, index) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (cause) {
      throw new InvalidInputDataError(`${source} line ${index + 1} is not valid JSON (${(cause as Error).message}).`, { cause });
    }
    items.push({ text: itemText(value, `${source} line ${index + 1}`), item: index });
  });
  return items;
}

/**
 * An image file's bytes, when its extension is an image type.
 * @param source the S3 URI and `model` the model's id, named in errors.
 */
export function readImageDocument(key: string, bytes: Uint8Array, source: string, model: string): Uint8Array {
  const extension = extensionOf(key);
  if (!(IMAGE_EXTENSIONS as readonly string[]).includes(extension)) {
    throw new UnsupportedFileTypeError(
      `${source}: ${extension || 'no extension'} is not an image type the image model ${model} embeds (${IMAGE_EXTENSIONS.join(', ')}).`,
    );
  }
  return bytes;
}

const readPlainText: DocumentReader = (bytes, source) => [{ text: decodeUtf8(bytes, source) }];

/** The reader of each text type, by extension. */
const READERS: Readonly<Record<(typeof TEXT_EXTENSIONS)[number], DocumentReader>> = Object.freeze({
  '.txt': readPlainText,
  '.md': readPlainText,
  '.json': (bytes, source) => jsonItems(decodeUtf8(bytes, source), source),
  '.jsonl': (bytes, source) => jsonlItems(decodeUtf8(bytes, source), source),
  '.pdf': readPdf,
  '.html': readHtml,
  '.htm': readHtml,
  '.docx': readDocx,
  '.csv': readCsv,
  '.tsv': readTsv,
});

/** True for a key of a document format (PDF, HTML, DOCX, CSV/TSV), whatever the extension's case. */
export function isDocumentKey(key: string): boolean {
  return (DOCUMENT_EXTENSIONS as readonly string[]).includes(extensionOf(key));
}

/** The per-format settings of the configuration. */
export function documentOptions(config: { pipeline: { csvTextColumn?: string }; limits: { maxInputBytes: number } }): DocumentOptions {
  return { csvTextColumn: config.pipeline.csvTextColumn, maxInputBytes: config.limits.maxInputBytes };
}

/**
 * A text file's texts, by its extension: `.txt`/`.md`/`.docx`/`.html` are one text, `.json` an
 * array of strings (or objects with `text`), `.jsonl` one string or object per line, `.pdf` one
 * text per page (with `page`), `.csv`/`.tsv` one text per data row (with `row`). Empty texts are
 * left out; a file with none is refused.
 * @param source the S3 URI and `model` the model's id, named in errors.
 * @example await readTextDocument('a/report.pdf', bytes, 's3://b/a/report.pdf', model.id, documentOptions(config))
 */
export async function readTextDocument(
  key: string,
  bytes: Uint8Array,
  source: string,
  model: string,
  options: DocumentOptions = {},
): Promise<TextItem[]> {
  const extension = extensionOf(key);
  if (!Object.hasOwn(READERS, extension)) {
    throw new UnsupportedFileTypeError(
      `${source}: ${extension || 'no extension'} is not a type the model ${model} embeds (${TEXT_EXTENSIONS.join(', ')}).`,
    );
  }
  const items = await READERS[extension as keyof typeof READERS](bytes, source, options);
  const nonEmpty = items.filter((entry) => entry.text.trim().length > 0);
  if (nonEmpty.length === 0) throw new EmptyDocumentError(`${source} has no text to embed.`);
  return nonEmpty;
}
