import { InvalidInputDataError } from '../../errors.ts';
import { EncryptedDocumentError, NoTextLayerError } from '../errors.ts';
import type { TextItem } from './types.ts';

/**
 * A PDF's text, one item per page (`item` 0-based, `page` 1-based); pages without text are left
 * out. unpdf (pdf.js, 1.7 MB of JavaScript) is imported on the first PDF, not at cold start.
 * @example await readPdf(bytes, 's3://b/report.pdf') // [{ text: '...', item: 0, page: 1 }, ...]
 */
export async function readPdf(bytes: Uint8Array, source: string): Promise<TextItem[]> {
  const { extractText, getDocumentProxy } = await import('unpdf');
  let pages: string[];
  try {
    // pdf.js takes ownership of the buffer it is given: a copy leaves the caller's bytes intact.
    // verbosity 0: its warnings about damaged files would go to stdout, outside the logger.
    const document = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
    try {
      ({ text: pages } = await extractText(document, { mergePages: false }));
    } finally {
      await document.loadingTask.destroy();
    }
  } catch (cause) {
    throw pdfError(cause, source);
  }
  const items = pages.map((text, index) => ({ text, item: index, page: index + 1 }));
  if (pages.length > 0 && items.every((entry) => entry.text.trim().length === 0)) {
    throw new NoTextLayerError(
      `${source} has ${pages.length} page${pages.length === 1 ? '' : 's'} but no text layer (a scanned PDF? run OCR first).`,
      { details: { pages: pages.length } },
    );
  }
  return items;
}

/** pdf.js names its failures: a password is needed, or the bytes are not a PDF it can read. */
function pdfError(cause: unknown, source: string): Error {
  const name = (cause as { name?: unknown })?.name;
  if (name === 'PasswordException') {
    return new EncryptedDocumentError(`${source} is an encrypted PDF that needs a password: store it without encryption.`, { cause });
  }
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new InvalidInputDataError(`${source} is not a readable PDF (${reason}).`, { cause });
}
