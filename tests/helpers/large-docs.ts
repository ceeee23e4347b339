/** Large test documents, and what a whole-document embedding of them gives (to compare outputs made of parts with). */
import assert from 'node:assert/strict';
import type { S3Client } from '@aws-sdk/client-s3';
import { readTextDocument } from '../../shared/pipeline/documents.ts';
import { vectorsDocumentSchema } from '../../shared/pipeline/outputs.ts';
import { chunkDocument, chunkTextOf, itemsByPosition } from '../../shared/pipeline/text-chunks.ts';
import type { Services } from '../../shared/services.ts';
import { readJson } from './stack.ts';

const WORDS = ['a', 'the', 'cat', 'dog', 'sits', 'on', 'mat', 'runs', 'fast', 'and'];

/** Deterministic text of `count` words (a little punctuation, some line breaks). */
export function words(count: number, seed = 1): string {
  let state = seed;
  const out: string[] = [];
  for (let index = 0; index < count; index++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    out.push(WORDS[state % WORDS.length] + (state % 13 === 0 ? '.\n' : ''));
  }
  return out.join(' ');
}

/** The three shapes of large document: a plain text, a JSONL of many lines, a JSON array of many items. */
export function largeDocuments(scale: number): Record<string, string> {
  return {
    'big.txt': words(30_000 * scale),
    'big.jsonl': Array.from({ length: 600 * scale }, (_, line) => JSON.stringify({ text: words(3 + (line % 25), line + 7) })).join('\n'),
    'big.json': JSON.stringify(Array.from({ length: 300 * scale }, (_, item) => words(2 + (item % 40), item + 3))),
  };
}

/**
 * What a whole-document embedding of `body` gives: the chunking of the whole document and each
 * chunk's vector embedded alone, to compare an output made of parts with.
 */
export async function expectedChunks(services: Pick<Services, 'documents' | 'config' | 'model'>, key: string, body: string) {
  const { documents } = services;
  if (documents.reads !== 'texts') throw new Error('a text model was expected');
  const items = await readTextDocument(key, Buffer.from(body), key, services.model.id);
  const { chunks } = chunkDocument(items, documents.tokens, services.config.pipeline);
  const byItem = itemsByPosition(items);
  const embedded = await documents.embed(chunks.map((chunk) => chunkTextOf(items, chunk, byItem)));
  return chunks.map((chunk, index) => ({ ...chunk, vector: embedded[index].vector ?? [] }));
}

/** Asserts a `.vectors.json` holds exactly the expected chunks, in order, once each. */
export async function assertWholeDocument(s3: S3Client, bucket: string, key: string, expected: Awaited<ReturnType<typeof expectedChunks>>) {
  const document = await readJson(s3, bucket, `${key}.vectors.json`, vectorsDocumentSchema);
  assert.equal(document.count, expected.length, `${key}: chunk count`);
  assert.equal(document.chunks.length, expected.length, `${key}: chunks`);
  document.chunks.forEach((chunk, index) => {
    const want = expected[index];
    assert.deepEqual([chunk.item, chunk.start, chunk.end], [want.item, want.start, want.end], `${key}: chunk ${index} boundaries`);
    const vector = chunk.vector ?? [];
    assert.equal(vector.length, want.vector.length);
    for (let d = 0; d < vector.length; d++) assert.ok(Math.abs(vector[d] - want.vector[d]) < 1e-5, `${key}: chunk ${index} dim ${d}`);
  });
  return document;
}
