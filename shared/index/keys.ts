/** Keys and metadata encodings every sink shares. Pure. */
import { createHash } from 'node:crypto';
import type { IndexSource } from './types.ts';

/** Longest vector key S3 Vectors accepts; LanceDB has none, but one key scheme serves both. */
export const MAX_KEY_LENGTH = 1024;

/** A source's id in the index: `bucket/key`. */
export function sourceId(source: IndexSource): string {
  return `${source.bucket}/${source.key}`;
}

/**
 * The key of one chunk, stable across redeliveries: `bucket/key#chunk`, or the source id's
 * sha256 in hex when that would be longer than a key may be.
 * @example chunkKey({ bucket: 'docs', key: 'a.txt' }, 3) // 'docs/a.txt#3'
 */
export function chunkKey(source: IndexSource, chunk: number): string {
  const plain = `${sourceId(source)}#${chunk}`;
  if (plain.length <= MAX_KEY_LENGTH) return plain;
  return `${createHash('sha256').update(sourceId(source)).digest('hex')}#${chunk}`;
}

/**
 * User metadata as sorted `name=<JSON value>` strings: a list column filters on these exactly
 * (`{"team": "ml"}` is `team="ml"`; the number 3 and the string "3" stay different).
 * @example metadataPairs({ team: 'ml', year: 2024 }) // ['team="ml"', 'year=2024']
 */
export function metadataPairs(metadata: Readonly<Record<string, string | number | boolean>>): string[] {
  return Object.entries(metadata)
    .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
    .sort();
}

/**
 * The index (S3 Vectors) or table (LanceDB) name of a model: its id made safe (lower case,
 * letters, digits and hyphens) and a hash of the id and ONNX file, so another model or file gets
 * another index (an index's dimension cannot change, and vectors of two models never mix).
 * serverless.config.cjs computes the same name for the deployment.
 * @example indexNameFor('Xenova/bge-small-en-v1.5', 'onnx/model.onnx') // 'xenova-bge-small-en-v1-5-<8 hex>'
 */
export function indexNameFor(modelId: string, file: string): string {
  const slug = modelId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 54);
  const hash = createHash('sha256').update(`${modelId}\n${file}`).digest('hex').slice(0, 8);
  return `${slug}-${hash}`;
}
