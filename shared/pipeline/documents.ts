import { InvalidInputDataError } from '../errors.ts';
import { decodeUtf8 } from '../storage/s3.ts';
import { EmptyDocumentError, UnsupportedFileTypeError } from './errors.ts';

export const TEXT_EXTENSIONS = ['.txt', '.md', '.json', '.jsonl'] as const;
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif'] as const;

/** One embeddable text of a file: the whole file, or one item of a JSON array / JSONL line. */
export interface TextItem {
  readonly text: string;
  /** Position in the JSON array or JSONL file; absent for plain-text files. */
  readonly item?: number;
}

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

/**
 * A text file's texts, by its extension: `.txt`/`.md` are one text, `.json` an array of strings
 * (or objects with `text`), `.jsonl` one string or object per line. Empty texts are left out.
 * @param source the S3 URI and `model` the model's id, named in errors.
 */
export function readTextDocument(key: string, bytes: Uint8Array, source: string, model: string): TextItem[] {
  const extension = extensionOf(key);
  if (!(TEXT_EXTENSIONS as readonly string[]).includes(extension)) {
    throw new UnsupportedFileTypeError(
      `${source}: ${extension || 'no extension'} is not a type the model ${model} embeds (${TEXT_EXTENSIONS.join(', ')}).`,
    );
  }
  const content = decodeUtf8(bytes, source);
  const items =
    extension === '.json' ? jsonItems(content, source) : extension === '.jsonl' ? jsonlItems(content, source) : [{ text: content }];
  const nonEmpty = items.filter((entry) => entry.text.trim().length > 0);
  if (nonEmpty.length === 0) throw new EmptyDocumentError(`${source} has no text to embed.`);
  return nonEmpty;
}
