import type { HtmlToTextOptions } from 'html-to-text';
import { InvalidInputDataError } from '../../errors.ts';
import { decodeUtf8 } from '../../storage/s3.ts';
import type { TextItem } from './types.ts';

/**
 * html-to-text options for embedding: the text a reader sees, one paragraph per block. No
 * wrapping (line breaks mid-sentence would only cost tokens), link texts without their URLs,
 * no images, headings in their own case, tables as rows of cells. `<script>` and `<style>` are
 * never text; `<noscript>` and `<template>` are not what a reader of the page sees.
 */
const OPTIONS: HtmlToTextOptions = {
  wordwrap: false,
  // The input is bounded by MAX_INPUT_BYTES already; the default (16 M characters) would cut
  // a larger page silently.
  limits: { maxInputLength: undefined },
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'noscript', format: 'skip' },
    { selector: 'template', format: 'skip' },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'h4', options: { uppercase: false } },
    { selector: 'h5', options: { uppercase: false } },
    { selector: 'h6', options: { uppercase: false } },
    { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
  ],
};

/**
 * An HTML page's readable text, as one text. The page must be UTF-8 (a declared other charset is
 * not honoured). html-to-text is imported on the first page, not at cold start.
 */
export async function readHtml(bytes: Uint8Array, source: string): Promise<TextItem[]> {
  const html = decodeUtf8(bytes, source);
  const { convert } = await import('html-to-text');
  try {
    return [{ text: convert(html, OPTIONS) }];
  } catch (cause) {
    // The converter walks the tree recursively: thousands of nested elements overflow the stack.
    if (cause instanceof RangeError) {
      throw new InvalidInputDataError(`${source} is nested too deeply to convert (${cause.message}).`, { cause });
    }
    throw cause;
  }
}
