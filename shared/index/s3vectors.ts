/**
 * The S3 Vectors sink: one vector per chunk in an S3 Vectors index (REST JSON API, through
 * `@aws-sdk/client-s3vectors`). S3 Vectors has no transactions and no delete-by-filter, so a
 * source's chunks are addressed by key (`bucket/key#chunk`) and chunk 0 is the commit marker: it
 * carries the source's `etag` and chunk count (`chunks`), it is written after every other chunk of
 * a version and deleted before them, so `sourceEtag` never reports a half-written or half-deleted
 * source as current.
 *
 * The index must be created with `metadataConfiguration.nonFilterableMetadataKeys: ['text']`
 * (S3VECTORS_NON_FILTERABLE_KEYS): the chunk text is far above the 2 KB filterable budget.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteVectorsCommand,
  GetVectorsCommand,
  ListVectorsCommand,
  type PutInputVector,
  PutVectorsCommand,
  QueryVectorsCommand,
  type S3VectorsClient,
} from '@aws-sdk/client-s3vectors';
import { InvalidInputDataError } from '../errors.ts';
import { chunkKey, sourceId } from './keys.ts';
import type { IndexChunk, IndexDocument, IndexSink, IndexSource, SearchHit, SearchOptions } from './types.ts';

/** What the service accepts, and how hard this sink retries throttling on top of the SDK's own retries. */
export interface S3VectorsLimits {
  /** Vectors in one PutVectors call. */
  readonly maxVectorsPerPut: number;
  /** Bytes of one request body (the JSON the SDK sends). */
  readonly maxPayloadBytes: number;
  /** Metadata of one vector, filterable and non-filterable together, in bytes. */
  readonly maxMetadataBytes: number;
  /** Filterable metadata of one vector (every key but the non-filterable ones), in bytes. */
  readonly maxFilterableMetadataBytes: number;
  /** Metadata keys of one vector. */
  readonly maxMetadataKeys: number;
  /** Keys in one GetVectors call. */
  readonly maxKeysPerGet: number;
  /** Keys in one DeleteVectors call. */
  readonly maxKeysPerDelete: number;
  /** Results of one QueryVectors call. */
  readonly maxTopK: number;
  /** Characters of a vector key. */
  readonly maxKeyLength: number;
  /** Attempts of one call when the service throttles (429, 503), counting the first. */
  readonly retryMaxAttempts: number;
  /** First backoff in ms; it doubles each attempt (full jitter, capped at 20 s). */
  readonly retryBaseDelayMs: number;
}

/**
 * The documented service values. Sources: the "Limitations and restrictions" page of the S3 user
 * guide (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-vectors-limitations.html, GA
 * version) and the service model in aws/aws-sdk-js-v3 codegen/sdk-codegen/aws-models/s3vectors.json.
 */
export const S3VECTORS_LIMITS: S3VectorsLimits = {
  maxVectorsPerPut: 500, // limitations page "Vectors per PutVectors API call: Up to 500"; model PutVectorsInputList @length max 500
  maxPayloadBytes: 20 * 1024 * 1024, // limitations page "Request payload size: Up to 20 MiB"
  maxMetadataBytes: 40 * 1024, // limitations page "Total metadata per vector: Up to 40 KB (filterable + non-filterable)"
  maxFilterableMetadataBytes: 2 * 1024, // limitations page "Filterable metadata per vector: Up to 2 KB"; service message "at most 2048 bytes"
  maxMetadataKeys: 50, // limitations page "Total metadata keys per vector: Up to 50" (10 during the preview)
  maxKeysPerGet: 100, // limitations page "Vectors per GetVectors API call: Up to 100"; model GetVectorsInputList @length max 100
  maxKeysPerDelete: 500, // limitations page "Vectors per DeleteVectors API call: Up to 500"; model DeleteVectorsInputList @length max 500
  maxTopK: 100, // limitations page "Top-K results per QueryVectors request: Up to 100" (30 during the preview)
  maxKeyLength: 1024, // model VectorKey @length 1..1024; user guide "Vectors": "Vector keys can be up to 1,024 characters long"
  retryMaxAttempts: 6, // this sink's choice (not a service value): attempts per call on throttling, over the SDK's 3
  retryBaseDelayMs: 200, // this sink's choice (not a service value): first backoff, doubled per attempt
};

/** Metadata keys the index must declare non-filterable (CreateIndex metadataConfiguration). */
export const S3VECTORS_NON_FILTERABLE_KEYS: readonly string[] = ['text'];

/** Prefix of the user's metadata keys in a vector's metadata (`team` -> `meta_team`). */
const USER_PREFIX = 'meta_';
/** How many results a prefix search asks for per wanted result (the prefix is applied here, after the query). */
const PREFIX_OVERFETCH = 4;
/** Room kept below the total metadata limit when the text is cut: the service does not say how it counts. */
const METADATA_SLACK_BYTES = 512;
/** Room kept below the payload limit for the request's envelope beyond what is counted. */
const PAYLOAD_SLACK_BYTES = 4096;
const MAX_BACKOFF_MS = 20_000;

export interface S3VectorsSinkOptions {
  /** The sink owns the client: close() destroys it. */
  readonly client: S3VectorsClient;
  readonly vectorBucket: string;
  readonly indexName: string;
  readonly limits: S3VectorsLimits;
}

type Metadata = Record<string, string | number | boolean>;

/** Bytes of a value as JSON text: how this sink (and the stand-in) measure metadata and payloads. */
function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/** Bytes JSON.stringify spends on one code point inside a string literal. */
function escapedBytes(codePoint: number): number {
  if (codePoint === 0x22 || codePoint === 0x5c) return 2; // \" \\
  if (codePoint < 0x20) return [0x08, 0x09, 0x0a, 0x0c, 0x0d].includes(codePoint) ? 2 : 6; // \n ... or \u00XX
  if (codePoint >= 0xd800 && codePoint <= 0xdfff) return 6; // a lone surrogate becomes \udXXX
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  if (codePoint < 0x10000) return 3;
  return 4;
}

/**
 * The longest prefix of `text` whose JSON string literal (without its quotes) takes at most
 * `budget` bytes, cut between code points (never inside a surrogate pair or a UTF-8 sequence).
 */
function cutToBytes(text: string, budget: number): string {
  let used = 0;
  let end = 0;
  for (const char of text) {
    const bytes = escapedBytes(char.codePointAt(0) as number);
    if (used + bytes > budget) break;
    used += bytes;
    end += char.length;
  }
  return text.slice(0, end);
}

/** Whether an error is the service (or its front door) saying "slow down" or "not now". */
function isThrottling(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const failure = error as { name?: string; $metadata?: { httpStatusCode?: number }; $retryable?: { throttling?: boolean } };
  const status = failure.$metadata?.httpStatusCode;
  return (
    failure.name === 'TooManyRequestsException' ||
    failure.name === 'ThrottlingException' ||
    failure.name === 'ServiceUnavailableException' ||
    failure.$retryable?.throttling === true ||
    status === 429 ||
    status === 503
  );
}

/** Splits `items` into runs of at most `size`. */
function batches<T>(items: readonly T[], size: number): T[][] {
  const runs: T[][] = [];
  for (let at = 0; at < items.length; at += size) runs.push(items.slice(at, at + size));
  return runs;
}

/** Integers `from` (inclusive) to `to` (exclusive). */
function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, index) => from + index);
}

/**
 * The S3 Vectors sink of one index. Every operation on a source runs after the earlier ones on
 * the same source in this process have settled (two deliveries of one key never interleave here;
 * across processes the last writer of chunk 0 wins and the stray scan tidies the rest).
 */
export function createS3VectorsSink(options: S3VectorsSinkOptions): IndexSink {
  const { client, vectorBucket, indexName, limits } = options;
  const target = { vectorBucketName: vectorBucket, indexName };

  /** The key of one chunk (keys.ts): `bucket/key#chunk`, or a hash when that is longer than the service's limit. */
  const vectorKey = chunkKey;

  /** One call, retried with exponential backoff and full jitter while the service throttles. */
  async function call<T>(send: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (error) {
        if (!isThrottling(error) || attempt >= limits.retryMaxAttempts) throw error;
        const ceiling = Math.min(MAX_BACKOFF_MS, limits.retryBaseDelayMs * 2 ** (attempt - 1));
        await sleep(Math.random() * ceiling);
      }
    }
  }

  /** The stored metadata of the given keys (missing keys are left out). */
  async function getMetadata(keys: readonly string[]): Promise<Map<string, Record<string, unknown>>> {
    const found = new Map<string, Record<string, unknown>>();
    for (const run of batches(keys, limits.maxKeysPerGet)) {
      const output = await call(() =>
        client.send(new GetVectorsCommand({ ...target, keys: run, returnMetadata: true, returnData: false })),
      );
      for (const vector of output.vectors ?? []) {
        if (vector.key) found.set(vector.key, (vector.metadata ?? {}) as Record<string, unknown>);
      }
    }
    return found;
  }

  /** Chunk 0's metadata: the committed version's etag and chunk count, or undefined when there is none. */
  async function readMarker(source: IndexSource): Promise<{ etag?: string; chunks: number } | undefined> {
    const metadata = (await getMetadata([vectorKey(source, 0)])).get(vectorKey(source, 0));
    if (!metadata) return undefined;
    const chunks = typeof metadata.chunks === 'number' && Number.isInteger(metadata.chunks) && metadata.chunks > 0 ? metadata.chunks : 1;
    return { ...(typeof metadata.etag === 'string' ? { etag: metadata.etag } : {}), chunks };
  }

  async function deleteKeys(keys: readonly string[]): Promise<void> {
    for (const run of batches(keys, limits.maxKeysPerDelete)) {
      await call(() => client.send(new DeleteVectorsCommand({ ...target, keys: run })));
    }
  }

  /**
   * Deletes chunks `from`, `from + 1`, ... that exist, a GetVectors batch at a time, until a batch
   * finds none. Such strays are left by a write that failed before its chunk 0 (chunks are written
   * in order, so they form a run) and by a crash in the middle of a delete.
   */
  async function deleteStrays(source: IndexSource, from: number): Promise<void> {
    for (let start = from; ; start += limits.maxKeysPerGet) {
      const keys = range(start, start + limits.maxKeysPerGet).map((chunk) => vectorKey(source, chunk));
      const output = await call(() => client.send(new GetVectorsCommand({ ...target, keys, returnMetadata: false, returnData: false })));
      const found = (output.vectors ?? []).flatMap((vector) => (vector.key ? [vector.key] : []));
      if (found.length === 0) return;
      await deleteKeys(found);
    }
  }

  /** The metadata of one chunk: filterable facts, the user's metadata as `meta_*`, and the text cut to fit. */
  function metadataOf(document: IndexDocument, chunk: IndexChunk): Metadata {
    const { source } = document;
    const filterable: Metadata = {
      source_bucket: source.bucket,
      source_key: source.key,
      etag: source.etag,
      chunk: chunk.chunk,
      chunks: document.chunks.length,
      start: chunk.start,
      end: chunk.end,
      ...(chunk.item === undefined ? {} : { item: chunk.item }),
      model_id: document.modelId,
      created_at: document.createdAt,
    };
    // The sink's own keys: the ones above plus text and text_truncated.
    const ownKeys = Object.keys(filterable).length + 2;
    for (const [name, value] of Object.entries(document.metadata)) filterable[`${USER_PREFIX}${name}`] = value;
    const uri = `s3://${source.bucket}/${source.key}`;
    const userKeys = Object.keys(document.metadata).length;
    if (ownKeys + userKeys > limits.maxMetadataKeys) {
      throw new InvalidInputDataError(
        `${uri} has ${userKeys} user metadata keys; S3 Vectors holds at most ${limits.maxMetadataKeys} metadata keys per vector, which leaves ${limits.maxMetadataKeys - ownKeys} for user metadata.`,
      );
    }
    const filterableBytes = jsonBytes(filterable);
    if (filterableBytes > limits.maxFilterableMetadataBytes) {
      throw new InvalidInputDataError(
        `${uri}: its key and user metadata take ${filterableBytes} bytes of filterable metadata per chunk; S3 Vectors allows ${limits.maxFilterableMetadataBytes}. Use a shorter key or less user metadata.`,
      );
    }
    const whole: Metadata = { ...filterable, text: chunk.text };
    if (jsonBytes(whole) <= limits.maxMetadataBytes - METADATA_SLACK_BYTES) return whole;
    const cut: Metadata = { ...filterable, text: '', text_truncated: true };
    const text = cutToBytes(chunk.text, limits.maxMetadataBytes - METADATA_SLACK_BYTES - jsonBytes(cut));
    return { ...cut, text };
  }

  /**
   * PutVectors calls for `vectors`, in order, each within the count and payload limits. A vector
   * alone above the payload limit still goes alone (the service then refuses it).
   */
  async function putAll(vectors: readonly PutInputVector[]): Promise<void> {
    const envelope = jsonBytes({ ...target, vectors: [] }) + PAYLOAD_SLACK_BYTES;
    let run: PutInputVector[] = [];
    let bytes = envelope;
    const flush = async () => {
      if (run.length === 0) return;
      const vectorsOfCall = run;
      await call(() => client.send(new PutVectorsCommand({ ...target, vectors: vectorsOfCall })));
      run = [];
      bytes = envelope;
    };
    for (const vector of vectors) {
      const size = jsonBytes(vector) + 1;
      if (run.length >= limits.maxVectorsPerPut || (run.length > 0 && bytes + size > limits.maxPayloadBytes)) await flush();
      run.push(vector);
      bytes += size;
    }
    await flush();
  }

  async function deleteSourceNow(source: IndexSource): Promise<void> {
    const marker = await readMarker(source);
    if (marker) {
      // Chunk 0 first: from here on the source reads as absent, whatever else is still there.
      await deleteKeys([vectorKey(source, 0)]);
      await deleteKeys(range(1, marker.chunks).map((chunk) => vectorKey(source, chunk)));
    }
    await deleteStrays(source, marker ? Math.max(1, marker.chunks) : 1);
  }

  async function replaceSourceNow(document: IndexDocument): Promise<void> {
    const { source } = document;
    const count = document.chunks.length;
    if (count === 0) return deleteSourceNow(source);
    const ordered = [...document.chunks].sort((a, b) => a.chunk - b.chunk);
    if (ordered.some((chunk, index) => chunk.chunk !== index)) {
      throw new Error(`replaceSource(s3://${source.bucket}/${source.key}): chunk numbers must be 0..${count - 1}.`);
    }
    const marker = await readMarker(source);
    const vectors: PutInputVector[] = ordered.map((chunk) => ({
      key: vectorKey(source, chunk.chunk),
      data: { float32: [...chunk.vector] },
      metadata: metadataOf(document, chunk),
    }));
    // Chunks 1.. first, then chunk 0 alone in the last call: the commit marker lands only when
    // everything it announces is there (one PutVectors call is not promised to be all-or-nothing).
    await putAll(vectors.slice(1));
    await putAll(vectors.slice(0, 1));
    const previous = marker?.chunks ?? 0;
    await deleteKeys(range(count, previous).map((chunk) => vectorKey(source, chunk)));
    await deleteStrays(source, Math.max(count, previous));
  }

  const pending = new Map<string, Promise<void>>();
  /** Runs `operation` after the earlier operations on the same source have settled. */
  function serialized(source: IndexSource, operation: () => Promise<void>): Promise<void> {
    const id = sourceId(source);
    const result = (pending.get(id) ?? Promise.resolve()).then(operation);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    pending.set(id, settled);
    void settled.then(() => {
      if (pending.get(id) === settled) pending.delete(id);
    });
    return result;
  }

  return {
    name: 's3vectors',
    async sourceEtag(source) {
      await pending.get(sourceId(source));
      return (await readMarker(source))?.etag;
    },
    async listSources(bucket, prefix = '') {
      // Every vector is listed (ListVectors has no filter): chunk 0 of each source carries its etag.
      const sources = new Map<string, string>();
      let nextToken: string | undefined;
      do {
        const page = await call(() =>
          client.send(
            new ListVectorsCommand({
              ...target,
              maxResults: 1000,
              returnMetadata: true,
              returnData: false,
              ...(nextToken ? { nextToken } : {}),
            }),
          ),
        );
        for (const vector of page.vectors ?? []) {
          const metadata = (vector.metadata ?? {}) as Record<string, unknown>;
          const key = String(metadata.source_key ?? '');
          if (metadata.chunk === 0 && metadata.source_bucket === bucket && key.startsWith(prefix))
            sources.set(key, String(metadata.etag ?? ''));
        }
        nextToken = page.nextToken;
      } while (nextToken);
      return sources;
    },
    replaceSource: (document) => serialized(document.source, () => replaceSourceNow(document)),
    deleteSource: (source) => serialized(source, () => deleteSourceNow(source)),
    async search(vector, search: SearchOptions): Promise<SearchHit[]> {
      const conditions: Record<string, { $eq: string | number | boolean }>[] = Object.entries(search.filter ?? {}).map(([name, value]) => ({
        [`${USER_PREFIX}${name}`]: { $eq: value },
      }));
      if (search.bucket !== undefined) conditions.push({ source_bucket: { $eq: search.bucket } });
      const topK = Math.min(Math.max(1, Math.floor(search.topK)), limits.maxTopK);
      // S3 Vectors filters have no prefix (or range-on-string) operator, so a key prefix cannot be
      // part of the query: ask for PREFIX_OVERFETCH times as many results (within the topK limit)
      // and keep those whose source_key starts with the prefix. A prefix matching few of the
      // nearest neighbours can therefore return fewer than topK hits.
      const prefix = search.prefix ?? '';
      const asked = prefix ? Math.min(limits.maxTopK, topK * PREFIX_OVERFETCH) : topK;
      const output = await call(() =>
        client.send(
          new QueryVectorsCommand({
            ...target,
            topK: asked,
            queryVector: { float32: [...vector] },
            ...(conditions.length > 0 ? { filter: { $and: conditions } } : {}),
            returnMetadata: true,
            returnDistance: true,
          }),
        ),
      );
      const hits: SearchHit[] = [];
      for (const result of output.vectors ?? []) {
        const metadata = (result.metadata ?? {}) as Record<string, unknown>;
        const key = String(metadata.source_key ?? '');
        if (!key.startsWith(prefix)) continue;
        const user: Metadata = {};
        for (const [name, value] of Object.entries(metadata)) {
          if (name.startsWith(USER_PREFIX)) user[name.slice(USER_PREFIX.length)] = value as string | number | boolean;
        }
        hits.push({
          bucket: String(metadata.source_bucket ?? ''),
          key,
          chunk: Number(metadata.chunk),
          start: Number(metadata.start),
          end: Number(metadata.end),
          ...(typeof metadata.item === 'number' ? { item: metadata.item } : {}),
          // Cosine index: distance = 1 - cosine similarity.
          score: 1 - Number(result.distance ?? 1),
          text: typeof metadata.text === 'string' ? metadata.text : '',
          metadata: user,
        });
      }
      return hits.sort((a, b) => b.score - a.score).slice(0, topK);
    },
    async close() {
      await Promise.all(pending.values());
      client.destroy();
    },
  };
}
