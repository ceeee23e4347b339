import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  CreateIndexCommand,
  CreateVectorBucketCommand,
  DeleteVectorsCommand,
  GetVectorsCommand,
  type PutInputVector,
  PutVectorsCommand,
  paginateListVectors,
  QueryVectorsCommand,
  type QueryVectorsCommandInput,
  S3VectorsClient,
  type S3VectorsClientConfig,
} from '@aws-sdk/client-s3vectors';
import { InvalidInputDataError } from '../../shared/errors.ts';
import {
  createS3VectorsSink,
  S3VECTORS_LIMITS,
  S3VECTORS_NON_FILTERABLE_KEYS,
  type S3VectorsLimits,
} from '../../shared/index/s3vectors.ts';
import type { IndexDocument, IndexSink, SearchHit } from '../../shared/index/types.ts';
import { cosine } from '../../shared/math/vector.ts';
import { seededRandom } from '../fixtures/tiny-models.ts';
import { type S3VectorsStandIn, startS3VectorsStandIn } from '../helpers/s3vectors-standin.ts';

const VECTOR_BUCKET = 'vectors-test';
const DIMENSION = 8;
/** The service's limits, with a short backoff so retried tests stay fast. */
const FAST: S3VectorsLimits = { ...S3VECTORS_LIMITS, retryBaseDelayMs: 1 };

let standIn: S3VectorsStandIn;
/** Clients made by a test, destroyed at the end. */
const clients: S3VectorsClient[] = [];

function client(extra: Partial<S3VectorsClientConfig> = {}): S3VectorsClient {
  const made = new S3VectorsClient({
    endpoint: standIn.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    ...extra,
  });
  clients.push(made);
  return made;
}

let indexes = 0;
/** A fresh index (dimension 8, cosine, `text` non-filterable), so tests do not see each other's vectors. */
async function createIndex(dimension = DIMENSION): Promise<string> {
  const indexName = `index-${++indexes}`;
  await client().send(
    new CreateIndexCommand({
      vectorBucketName: VECTOR_BUCKET,
      indexName,
      dataType: 'float32',
      dimension,
      distanceMetric: 'cosine',
      metadataConfiguration: { nonFilterableMetadataKeys: [...S3VECTORS_NON_FILTERABLE_KEYS] },
    }),
  );
  return indexName;
}

function sinkFor(indexName: string, options: { limits?: S3VectorsLimits; client?: S3VectorsClient } = {}): IndexSink {
  return createS3VectorsSink({
    client: options.client ?? client(),
    vectorBucket: VECTOR_BUCKET,
    indexName,
    limits: options.limits ?? FAST,
  });
}

const random = seededRandom;

function vectorOf(next: () => number, dimension = DIMENSION): number[] {
  return Array.from({ length: dimension }, () => next() * 2 - 1);
}

function documentOf(options: {
  bucket?: string;
  key: string;
  etag: string;
  count: number;
  seed?: number;
  text?: (chunk: number) => string;
  metadata?: IndexDocument['metadata'];
  items?: boolean;
  dimension?: number;
}): IndexDocument {
  const next = random(options.seed ?? 1);
  return {
    source: { bucket: options.bucket ?? 'docs', key: options.key, etag: options.etag },
    modelId: 'test/model',
    createdAt: '2025-01-02T03:04:05.000Z',
    metadata: options.metadata ?? {},
    chunks: Array.from({ length: options.count }, (_, chunk) => ({
      chunk,
      vector: vectorOf(next, options.dimension),
      text: options.text ? options.text(chunk) : `chunk ${chunk} of ${options.key}`,
      start: chunk * 10,
      end: chunk * 10 + 9,
      ...(options.items ? { item: chunk % 3 } : {}),
    })),
  };
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/** The stand-in's calls from `start` on, of one operation. */
function callsOf(operation: string, start = 0) {
  return standIn.calls.slice(start).filter((call) => call.operation === operation);
}

before(async () => {
  standIn = await startS3VectorsStandIn();
  await client().send(new CreateVectorBucketCommand({ vectorBucketName: VECTOR_BUCKET }));
});

after(async () => {
  for (const made of clients) made.destroy();
  await standIn.stop();
});

describe('S3 Vectors sink, through the SDK against the stand-in', () => {
  test('replaces a 1200-chunk document in calls within the per-call limit, chunk 0 last; a 5-chunk version deletes the rest', async () => {
    const indexName = await createIndex();
    const sink = sinkFor(indexName);
    const source = { bucket: 'docs', key: 'big/report.txt' };
    assert.equal(await sink.sourceEtag(source), undefined);

    let start = standIn.calls.length;
    await sink.replaceSource(documentOf({ key: source.key, etag: '"v1"', count: 1200 }));
    const puts = callsOf('PutVectors', start);
    assert.ok(puts.every((call) => call.status === 200));
    assert.ok(
      puts.every((call) => (call.items ?? 0) <= S3VECTORS_LIMITS.maxVectorsPerPut && call.bytes <= S3VECTORS_LIMITS.maxPayloadBytes),
    );
    assert.deepEqual(
      puts.map((call) => call.items),
      [500, 500, 199, 1],
      'chunks 1.. in full batches, then chunk 0 alone',
    );
    let stored = standIn.index(VECTOR_BUCKET, indexName)!;
    assert.equal(stored.size, 1200);
    const marker = stored.get('docs/big/report.txt#0')!;
    assert.equal(marker.metadata.etag, '"v1"');
    assert.equal(marker.metadata.chunks, 1200);
    assert.deepEqual(
      Object.keys(stored.get('docs/big/report.txt#1199')!.metadata).sort(),
      ['chunk', 'chunks', 'created_at', 'end', 'etag', 'model_id', 'source_bucket', 'source_key', 'start', 'text'].sort(),
    );
    assert.equal(await sink.sourceEtag(source), '"v1"');

    start = standIn.calls.length;
    await sink.replaceSource(documentOf({ key: source.key, etag: '"v2"', count: 5, seed: 2 }));
    const deletes = callsOf('DeleteVectors', start);
    assert.ok(deletes.every((call) => call.status === 200 && (call.items ?? 0) <= S3VECTORS_LIMITS.maxKeysPerDelete));
    assert.deepEqual(
      deletes.map((call) => call.items),
      [500, 500, 195],
    );
    stored = standIn.index(VECTOR_BUCKET, indexName)!;
    assert.deepEqual([...stored.keys()].sort(), [0, 1, 2, 3, 4].map((chunk) => `docs/big/report.txt#${chunk}`).sort());
    assert.ok([...stored.values()].every((vector) => vector.metadata.etag === '"v2"' && vector.metadata.chunks === 5));
    assert.equal(await sink.sourceEtag(source), '"v2"');
    await sink.close();
  });

  test('also batches by request payload bytes', async () => {
    const indexName = await createIndex();
    const limits = { ...FAST, maxPayloadBytes: 256 * 1024 };
    const sink = sinkFor(indexName, { limits });
    const start = standIn.calls.length;
    await sink.replaceSource(documentOf({ key: 'wide.txt', etag: 'e', count: 300, text: (chunk) => `${chunk} `.padEnd(3000, 'x') }));
    const puts = callsOf('PutVectors', start);
    assert.ok(puts.length > 2, `${puts.length} calls`);
    assert.ok(
      puts.every((call) => call.status === 200 && call.bytes <= limits.maxPayloadBytes),
      JSON.stringify(puts),
    );
    assert.equal(standIn.index(VECTOR_BUCKET, indexName)!.size, 300);
    await sink.close();
  });

  test('cuts a long text, UTF-8 safe, so the metadata fits, and marks it text_truncated', async () => {
    const indexName = await createIndex();
    const sink = sinkFor(indexName);
    // Multi-byte characters, an astral one (a surrogate pair) and characters JSON escapes.
    const long = 'é漢😀"\\\n'.repeat(6000);
    await sink.replaceSource(documentOf({ key: 'long.txt', etag: 'e', count: 2, text: (chunk) => (chunk === 0 ? long : 'short') }));
    const stored = standIn.index(VECTOR_BUCKET, indexName)!;
    const cut = stored.get('docs/long.txt#0')!.metadata;
    assert.equal(cut.text_truncated, true);
    const text = cut.text as string;
    assert.ok(text.length > 1000 && text.length < long.length);
    assert.ok(long.startsWith(text));
    assert.equal(Buffer.from(text, 'utf8').toString('utf8'), text, 'no lone surrogate: the cut is between characters');
    assert.ok(jsonBytes(cut) <= S3VECTORS_LIMITS.maxMetadataBytes, `${jsonBytes(cut)} bytes`);
    const whole = stored.get('docs/long.txt#1')!.metadata;
    assert.equal(whole.text, 'short');
    assert.equal('text_truncated' in whole, false);
    await sink.close();
  });

  test('hashes a source whose key is too long for a vector key', async () => {
    const indexName = await createIndex();
    const sink = sinkFor(indexName);
    const key = `deep/${'k'.repeat(1100)}.txt`;
    await sink.replaceSource(documentOf({ key, etag: 'h1', count: 3 }));
    const hash = createHash('sha256').update(`docs/${key}`).digest('hex');
    const stored = standIn.index(VECTOR_BUCKET, indexName)!;
    assert.deepEqual([...stored.keys()].sort(), [`${hash}#0`, `${hash}#1`, `${hash}#2`]);
    assert.equal(stored.get(`${hash}#1`)!.metadata.source_key, key);
    assert.equal(await sink.sourceEtag({ bucket: 'docs', key }), 'h1');
    await sink.deleteSource({ bucket: 'docs', key });
    assert.equal(standIn.index(VECTOR_BUCKET, indexName)!.size, 0);
    await sink.close();
  });

  test('deleteSource deletes chunk 0 first, then the rest, and strays left without a chunk 0', async () => {
    const indexName = await createIndex();
    const sink = sinkFor(indexName);
    const source = { bucket: 'docs', key: 'gone.txt' };
    await sink.replaceSource(documentOf({ key: source.key, etag: 'g', count: 7 }));
    await sink.replaceSource(documentOf({ key: 'kept.txt', etag: 'k', count: 2 }));
    let start = standIn.calls.length;
    await sink.deleteSource(source);
    const deletes = callsOf('DeleteVectors', start);
    assert.equal(deletes[0].items, 1, 'chunk 0 alone, first');
    assert.equal(await sink.sourceEtag(source), undefined);
    assert.deepEqual([...standIn.index(VECTOR_BUCKET, indexName)!.keys()].sort(), ['docs/kept.txt#0', 'docs/kept.txt#1']);

    // What a write that failed before its chunk 0 leaves: chunks 1..150, no marker.
    const raw = client();
    const next = random(9);
    for (const run of [
      [1, 100],
      [101, 151],
    ]) {
      await raw.send(
        new PutVectorsCommand({
          vectorBucketName: VECTOR_BUCKET,
          indexName,
          vectors: Array.from({ length: run[1] - run[0] }, (_, offset) => ({
            key: `docs/stray.txt#${run[0] + offset}`,
            data: { float32: vectorOf(next) },
          })),
        }),
      );
    }
    assert.equal(await sink.sourceEtag({ bucket: 'docs', key: 'stray.txt' }), undefined);
    start = standIn.calls.length;
    await sink.deleteSource({ bucket: 'docs', key: 'stray.txt' });
    assert.deepEqual([...standIn.index(VECTOR_BUCKET, indexName)!.keys()].sort(), ['docs/kept.txt#0', 'docs/kept.txt#1']);
    assert.ok(callsOf('GetVectors', start).every((call) => (call.items ?? 0) <= S3VECTORS_LIMITS.maxKeysPerGet));
    await sink.close();
  });

  test('a smaller version written after a failed, uncommitted larger one leaves no strays', async () => {
    const indexName = await createIndex();
    const sink = sinkFor(indexName);
    const source = { bucket: 'docs', key: 'flaky.txt' };
    await sink.replaceSource(documentOf({ key: source.key, etag: 'a', count: 3 }));
    // What a 1200-chunk version that failed on its third PutVectors leaves: chunks 1..1000 of it,
    // chunk 0 still the marker of version a (3 chunks).
    const raw = client();
    const next = random(3);
    for (const from of [1, 501]) {
      await raw.send(
        new PutVectorsCommand({
          vectorBucketName: VECTOR_BUCKET,
          indexName,
          vectors: Array.from({ length: 500 }, (_, offset) => ({
            key: `docs/flaky.txt#${from + offset}`,
            data: { float32: vectorOf(next) },
          })),
        }),
      );
    }
    assert.equal(await sink.sourceEtag(source), 'a');
    await sink.replaceSource(documentOf({ key: source.key, etag: 'c', count: 2 }));
    assert.deepEqual([...standIn.index(VECTOR_BUCKET, indexName)!.keys()].sort(), ['docs/flaky.txt#0', 'docs/flaky.txt#1']);
    assert.equal(await sink.sourceEtag(source), 'c');
    await sink.close();
  });

  test('search: filter, bucket and prefix, best first, cosine scores equal a brute-force search over what was written', async () => {
    const indexName = await createIndex();
    const sink = sinkFor(indexName);
    await sink.replaceSource(
      documentOf({ key: 'reports/a.txt', etag: 'a', count: 6, seed: 11, metadata: { team: 'ml', year: 2024 }, items: true }),
    );
    await sink.replaceSource(documentOf({ key: 'reports/b.txt', etag: 'b', count: 5, seed: 12, metadata: { team: 'web', year: 2024 } }));
    await sink.replaceSource(documentOf({ key: 'notes/c.txt', etag: 'c', count: 5, seed: 13, metadata: { team: 'ml', year: 2023 } }));
    await sink.replaceSource(
      documentOf({ bucket: 'other', key: 'reports/d.txt', etag: 'd', count: 4, seed: 14, metadata: { team: 'ml' } }),
    );
    const stored = standIn.index(VECTOR_BUCKET, indexName)!;
    const query = vectorOf(random(99));
    const float32Query = query.map((x) => Math.fround(x));

    function bruteForce(topK: number, keep: (metadata: Record<string, unknown>) => boolean) {
      return [...stored.values()]
        .filter((vector) => keep(vector.metadata))
        .map((vector) => ({
          bucket: vector.metadata.source_bucket,
          key: vector.metadata.source_key,
          chunk: vector.metadata.chunk,
          score: cosine(float32Query, vector.data),
        }))
        .sort((a, b) => b.score - a.score)
        .slice(0, topK);
    }
    function check(hits: SearchHit[], expected: ReturnType<typeof bruteForce>) {
      assert.deepEqual(
        hits.map((hit) => `${hit.bucket}/${hit.key}#${hit.chunk}`),
        expected.map((hit) => `${hit.bucket}/${hit.key}#${hit.chunk}`),
      );
      for (const [index, hit] of hits.entries())
        assert.ok(Math.abs(hit.score - expected[index].score) < 1e-6, `${hit.score} vs ${expected[index].score}`);
      for (let index = 1; index < hits.length; index++) assert.ok(hits[index - 1].score >= hits[index].score, 'best first');
    }

    check(
      await sink.search(query, { topK: 7 }),
      bruteForce(7, () => true),
    );
    check(
      await sink.search(query, { topK: 5, filter: { team: 'ml' } }),
      bruteForce(5, (m) => m.meta_team === 'ml'),
    );
    check(
      await sink.search(query, { topK: 5, filter: { team: 'ml', year: 2024 } }),
      bruteForce(5, (m) => m.meta_team === 'ml' && m.meta_year === 2024),
    );
    check(
      await sink.search(query, { topK: 20, bucket: 'other' }),
      bruteForce(20, (m) => m.source_bucket === 'other'),
    );
    // 15 candidates in bucket docs: within the 4x over-fetch, so the prefix result is exact.
    check(
      await sink.search(query, { topK: 4, bucket: 'docs', prefix: 'reports/' }),
      bruteForce(4, (m) => m.source_bucket === 'docs' && String(m.source_key).startsWith('reports/')),
    );
    check(
      await sink.search(query, { topK: 3, prefix: 'notes/', filter: { team: 'ml' } }),
      bruteForce(3, (m) => m.meta_team === 'ml' && String(m.source_key).startsWith('notes/')),
    );
    assert.deepEqual(await sink.search(query, { topK: 3, filter: { team: 'nobody' } }), []);

    const [hit] = await sink.search(stored.get('docs/reports/a.txt#4')!.data, { topK: 1 });
    assert.deepEqual(
      { ...hit, score: Math.round(hit.score * 1e6) / 1e6 },
      {
        bucket: 'docs',
        key: 'reports/a.txt',
        chunk: 4,
        start: 40,
        end: 49,
        item: 1,
        score: 1,
        text: 'chunk 4 of reports/a.txt',
        metadata: { team: 'ml', year: 2024 },
      },
    );
    const queries = callsOf('QueryVectors');
    assert.ok(queries.every((call) => call.status === 200));
    await sink.close();
  });

  test('a 429 twice on PutVectors is retried and ends in the same state as a clean write', async () => {
    const [faulty, clean] = [await createIndex(), await createIndex()];
    const document = documentOf({ key: 'retry.txt', etag: 'r', count: 12, metadata: { team: 'ml' } });
    await sinkFor(clean).replaceSource(document);

    const start = standIn.calls.length;
    standIn.failNext('PutVectors', 429, 'TooManyRequestsException', 2);
    const sink = sinkFor(faulty);
    await sink.replaceSource(document);
    assert.deepEqual(
      callsOf('PutVectors', start).map((call) => call.status),
      [429, 429, 200, 200],
    );
    assert.deepEqual(standIn.index(VECTOR_BUCKET, faulty), standIn.index(VECTOR_BUCKET, clean));
    assert.equal(await sink.sourceEtag({ bucket: 'docs', key: 'retry.txt' }), 'r');
    await sink.close();
  });

  test('the sink retries throttling itself (over an SDK that does not), not other errors, and gives up after retryMaxAttempts', async () => {
    const indexName = await createIndex();
    const sink = sinkFor(indexName, { client: client({ maxAttempts: 1 }), limits: { ...FAST, retryMaxAttempts: 4 } });
    const source = { bucket: 'docs', key: 'own-retry.txt' };

    let start = standIn.calls.length;
    standIn.failNext('PutVectors', 503, 'ServiceUnavailableException', 3);
    await sink.replaceSource(documentOf({ key: source.key, etag: 'o', count: 3 }));
    assert.deepEqual(
      callsOf('PutVectors', start).map((call) => call.status),
      [503, 503, 503, 200, 200],
    );
    assert.equal(standIn.index(VECTOR_BUCKET, indexName)!.size, 3);

    start = standIn.calls.length;
    standIn.failNext('GetVectors', 403, 'AccessDeniedException');
    await assert.rejects(sink.sourceEtag(source), { name: 'AccessDeniedException' });
    assert.equal(callsOf('GetVectors', start).length, 1, 'not retried');

    start = standIn.calls.length;
    standIn.failNext('QueryVectors', 429, 'TooManyRequestsException', 4);
    await assert.rejects(sink.search(vectorOf(random(5)), { topK: 3 }), { name: 'TooManyRequestsException' });
    assert.equal(callsOf('QueryVectors', start).length, 4, 'retryMaxAttempts calls, then the error as it is');
    assert.equal((await sink.search(vectorOf(random(5)), { topK: 3 })).length, 3);
    await sink.close();
  });

  test('the stand-in refuses a vector of the wrong dimension with a ValidationException (400), which the sink does not retry', async () => {
    const indexName = await createIndex();
    const sink = sinkFor(indexName);
    const start = standIn.calls.length;
    await assert.rejects(
      sink.replaceSource(documentOf({ key: 'wrong.txt', etag: 'w', count: 2, dimension: 5 })),
      (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(error.name, 'ValidationException');
        assert.equal(error.$metadata?.httpStatusCode, 400);
        assert.match(error.message, /dimension 5/);
        return true;
      },
    );
    assert.deepEqual(
      callsOf('PutVectors', start).map((call) => call.status),
      [400],
    );
    await sink.close();
  });

  test('filterable metadata over the 2 KB budget is refused before anything is written, as a permanent input error', async () => {
    const indexName = await createIndex();
    const sink = sinkFor(indexName);
    const start = standIn.calls.length;
    await assert.rejects(
      sink.replaceSource(documentOf({ key: `${'p'.repeat(900)}.txt`, etag: 'x', count: 2, metadata: { note: 'n'.repeat(1200) } })),
      (error) => error instanceof InvalidInputDataError && /filterable metadata/.test(error.message),
    );
    assert.equal(callsOf('PutVectors', start).length, 0);
    await sink.close();
  });
});

function queryOf(indexName: string) {
  return new QueryVectorsCommand({ vectorBucketName: VECTOR_BUCKET, indexName, topK: 1, queryVector: { float32: vectorOf(random(1)) } });
}

describe('S3 Vectors stand-in validation', () => {
  async function refusal(send: Promise<unknown>, name: string, status: number, message?: RegExp): Promise<void> {
    await assert.rejects(send, (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(error.name, name);
      assert.equal(error.$metadata?.httpStatusCode, status);
      if (message) assert.match(error.message, message);
      return true;
    });
  }
  const put = (indexName: string, vectors: PutInputVector[]) =>
    client({ maxAttempts: 1 }).send(new PutVectorsCommand({ vectorBucketName: VECTOR_BUCKET, indexName, vectors }));

  test('more vectors in one PutVectors than the limit', async () => {
    const indexName = await createIndex();
    const next = random(4);
    const vectors = Array.from({ length: 501 }, (_, index) => ({ key: `k${index}`, data: { float32: vectorOf(next) } }));
    await refusal(put(indexName, vectors), 'ValidationException', 400, /less than or equal to 500/);
    await put(indexName, vectors.slice(0, 500));
    assert.equal(standIn.index(VECTOR_BUCKET, indexName)!.size, 500);
  });

  test('metadata over the limits: total, filterable, key count', async () => {
    const indexName = await createIndex();
    const data = { float32: vectorOf(random(6)) };
    await refusal(
      put(indexName, [{ key: 'total', data, metadata: { text: 't'.repeat(41_000) } }]),
      'ValidationException',
      400,
      /at most 40960 bytes/,
    );
    await refusal(
      put(indexName, [{ key: 'filterable', data, metadata: { note: 'n'.repeat(2100) } }]),
      'ValidationException',
      400,
      /Invalid record for key 'filterable': Filterable metadata must have at most 2048 bytes/,
    );
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, index) => [`m${index}`, index]));
    await refusal(put(indexName, [{ key: 'keys', data, metadata: many }]), 'ValidationException', 400, /at most 50 keys/);
    // The same 2100 characters under a non-filterable key are fine.
    await put(indexName, [{ key: 'fine', data, metadata: { text: 'n'.repeat(2100) } }]);
    assert.equal(standIn.index(VECTOR_BUCKET, indexName)!.size, 1, 'a refused request stores nothing');
  });

  test('unknown index or bucket is a NotFoundException (404)', async () => {
    const data = { float32: vectorOf(random(7)) };
    await refusal(put('no-such-index', [{ key: 'k', data }]), 'NotFoundException', 404);
    await refusal(
      client({ maxAttempts: 1 }).send(new GetVectorsCommand({ vectorBucketName: 'no-such-bucket', indexName: 'x-index', keys: ['k'] })),
      'NotFoundException',
      404,
    );
    await refusal(client({ maxAttempts: 1 }).send(queryOf('no-such-index')), 'NotFoundException', 404);
  });

  test('other limits: keys per GetVectors/DeleteVectors, key length, topK, dimension, zero vector, payload size, non-filterable filter', async () => {
    const indexName = await createIndex();
    const raw = client({ maxAttempts: 1 });
    const keys = (count: number) => Array.from({ length: count }, (_, index) => `k${index}`);
    await refusal(
      raw.send(new GetVectorsCommand({ vectorBucketName: VECTOR_BUCKET, indexName, keys: keys(101) })),
      'ValidationException',
      400,
    );
    await refusal(
      raw.send(new DeleteVectorsCommand({ vectorBucketName: VECTOR_BUCKET, indexName, keys: keys(501) })),
      'ValidationException',
      400,
    );
    await refusal(put(indexName, [{ key: 'k'.repeat(1025), data: { float32: vectorOf(random(1)) } }]), 'ValidationException', 400);
    await put(indexName, [{ key: '😀'.repeat(1024), data: { float32: vectorOf(random(1)) } }]);
    await refusal(
      put(indexName, [{ key: 'zero', data: { float32: new Array(DIMENSION).fill(0) } }]),
      'ValidationException',
      400,
      /zero vectors/,
    );
    await refusal(
      raw.send(
        new QueryVectorsCommand({ vectorBucketName: VECTOR_BUCKET, indexName, topK: 101, queryVector: { float32: vectorOf(random(1)) } }),
      ),
      'ValidationException',
      400,
    );
    await refusal(
      raw.send(
        new QueryVectorsCommand({
          vectorBucketName: VECTOR_BUCKET,
          indexName,
          topK: 1,
          queryVector: { float32: vectorOf(random(1)) },
          filter: { text: 'x' },
        }),
      ),
      'ValidationException',
      400,
      /non-filterable/,
    );
    await refusal(
      raw.send(
        new CreateIndexCommand({
          vectorBucketName: VECTOR_BUCKET,
          indexName: 'too-wide',
          dataType: 'float32',
          dimension: 4097,
          distanceMetric: 'cosine',
        }),
      ),
      'ValidationException',
      400,
    );
    await refusal(
      raw.send(
        new CreateIndexCommand({ vectorBucketName: VECTOR_BUCKET, indexName, dataType: 'float32', dimension: 3, distanceMetric: 'cosine' }),
      ),
      'ConflictException',
      409,
    );
    // 500 vectors of 4096 values: about 40 MB of JSON, over the 20 MiB payload limit.
    const wide = await createIndex(4096);
    const next = random(8);
    const vectors = Array.from({ length: 500 }, (_, index) => ({ key: `w${index}`, data: { float32: vectorOf(next, 4096) } }));
    await refusal(put(wide, vectors), 'ValidationException', 400, /payload/);
    assert.equal(standIn.index(VECTOR_BUCKET, wide)!.size, 0);
  });

  test('ListVectors pages with nextToken and maxResults; QueryVectors filter operators', async () => {
    const indexName = await createIndex();
    const next = random(10);
    await put(
      indexName,
      Array.from({ length: 25 }, (_, index) => ({
        key: `v${String(index).padStart(2, '0')}`,
        data: { float32: vectorOf(next) },
        metadata: {
          n: index,
          parity: index % 2 === 0 ? 'even' : 'odd',
          tags: index % 5 === 0 ? ['five', 'x'] : ['x'],
          ...(index < 3 ? { low: true } : {}),
        },
      })),
    );
    const raw = client({ maxAttempts: 1 });
    const pages: number[] = [];
    const listed: string[] = [];
    for await (const page of paginateListVectors(
      { client: raw, pageSize: 10 },
      { vectorBucketName: VECTOR_BUCKET, indexName, returnMetadata: true },
    )) {
      pages.push(page.vectors?.length ?? 0);
      for (const vector of page.vectors ?? []) {
        listed.push(vector.key as string);
        assert.equal(typeof (vector.metadata as Record<string, unknown>).n, 'number');
      }
    }
    assert.deepEqual(pages, [10, 10, 5]);
    assert.equal(new Set(listed).size, 25);

    const keysFor = async (filter: QueryVectorsCommandInput['filter']) => {
      const output = await raw.send(
        new QueryVectorsCommand({
          vectorBucketName: VECTOR_BUCKET,
          indexName,
          topK: 100,
          queryVector: { float32: vectorOf(random(2)) },
          filter,
        }),
      );
      return (output.vectors ?? []).map((vector) => Number((vector.key as string).slice(1))).sort((a, b) => a - b);
    };
    assert.deepEqual(await keysFor({ n: { $gte: 20, $lt: 23 } }), [20, 21, 22]);
    assert.deepEqual(await keysFor({ n: { $gt: 22 }, parity: 'even' }), [24]);
    assert.deepEqual(await keysFor({ n: { $in: [1, 2, 30] } }), [1, 2]);
    assert.deepEqual((await keysFor({ n: { $nin: [0, 1] } })).length, 23);
    assert.deepEqual(await keysFor({ low: { $exists: true } }), [0, 1, 2]);
    assert.deepEqual(await keysFor({ tags: { $eq: 'five' } }), [0, 5, 10, 15, 20]);
    assert.deepEqual(await keysFor({ $or: [{ n: { $lte: 1 } }, { n: { $eq: 24 } }] }), [0, 1, 24]);
    assert.deepEqual(await keysFor({ $and: [{ parity: { $ne: 'even' } }, { n: { $lt: 6 } }] }), [1, 3, 5]);
    await refusal(keysFor({ n: { $regex: 'x' } }), 'ValidationException', 400);
    await refusal(keysFor({ $or: [] }), 'ValidationException', 400);
  });

  test('failNext injects a fault for the next calls of an operation', async () => {
    const indexName = await createIndex();
    const raw = client({ maxAttempts: 1 });
    standIn.failNext('QueryVectors', 503, 'ServiceUnavailableException', 2);
    await refusal(raw.send(queryOf(indexName)), 'ServiceUnavailableException', 503);
    await refusal(raw.send(queryOf(indexName)), 'ServiceUnavailableException', 503);
    const output = await raw.send(queryOf(indexName));
    assert.deepEqual(output.vectors, []);
    assert.equal(output.distanceMetric, 'cosine');
  });
});
