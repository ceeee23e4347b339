import { InvalidInputDataError } from '../../errors.ts';
import type { TextItem } from './types.ts';

/**
 * A Word (.docx) document's text, as one text: paragraphs separated by blank lines. mammoth is
 * imported on the first document, not at cold start.
 */
export async function readDocx(bytes: Uint8Array, source: string): Promise<TextItem[]> {
  const { default: mammoth } = await import('mammoth');
  try {
    const { value } = await mammoth.extractRawText({ buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
    return [{ text: value }];
  } catch (cause) {
    // A .docx is a zip holding word/document.xml: anything else (not a zip, a truncated zip, another zip) fails here.
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new InvalidInputDataError(`${source} is not a readable .docx document (${reason}).`, { cause });
  }
}
