import { InvalidInputDataError, PayloadTooLargeError } from '../../errors.ts';
import type { DocumentOptions, TextItem } from './types.ts';

/**
 * The bytes a zip's entries expand to, as its central directory declares them (jszip refuses an
 * entry whose data does not match its declared size, so the declaration holds).
 */
async function expandedBytes(bytes: Uint8Array): Promise<number> {
  const { default: JSZip } = await import('jszip');
  const zip = await JSZip.loadAsync(bytes);
  let total = 0;
  zip.forEach((_path, entry) => {
    // jszip has no public accessor for the declared size; a loaded entry keeps it in `_data`.
    total += (entry as unknown as { _data?: { uncompressedSize?: number } })._data?.uncompressedSize ?? 0;
  });
  return total;
}

/**
 * A Word (.docx) document's text, as one text: paragraphs separated by blank lines. mammoth is
 * imported on the first document, not at cold start. A document expanding past `maxInputBytes`
 * is refused unread: mammoth held about 45 MB of memory per MB of document.xml of short paragraphs
 * (8 MB: 463 MB RSS), so a 150 KB zip could otherwise take the function down.
 */
export async function readDocx(bytes: Uint8Array, source: string, options: DocumentOptions = {}): Promise<TextItem[]> {
  const { default: mammoth } = await import('mammoth');
  try {
    const limit = options.maxInputBytes;
    const expanded = limit === undefined ? 0 : await expandedBytes(bytes);
    if (limit !== undefined && expanded > limit) {
      throw new PayloadTooLargeError(`${source} expands to ${expanded} bytes when unzipped; the limit is ${limit} (MAX_INPUT_BYTES).`, {
        details: { expanded_bytes: expanded, limit },
      });
    }
    const { value } = await mammoth.extractRawText({ buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
    return [{ text: value }];
  } catch (cause) {
    if (cause instanceof PayloadTooLargeError) throw cause;
    // A .docx is a zip holding word/document.xml: anything else (not a zip, a truncated zip, another zip) fails here.
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new InvalidInputDataError(`${source} is not a readable .docx document (${reason}).`, { cause });
  }
}
