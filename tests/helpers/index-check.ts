/** Checks that the vector index, the sidecars and the bucket agree (index-sync and index-faults tests). */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Resources } from '../../local/resources.ts';
import type { LocalStack } from '../../local/stack.ts';
import { indexNameFor } from '../../shared/index/keys.ts';
import { cosine } from '../../shared/math/vector.ts';
import { isMetadataSidecar } from '../../shared/pipeline/metadata.ts';
import { type VectorsDocument, vectorsDocumentSchema } from '../../shared/pipeline/outputs.ts';
import { listKeys, readJson, startTestStack, waitFor } from './stack.ts';
import { tinyModel } from './tiny.ts';

export interface IndexRow {
  id: string;
  bucket: string;
  key: string;
  etag: string;
  chunk: number;
  vector: number[];
}

// Outputs and metadata sidecars are not sources.
const isSidecar = (key: string) => key.endsWith('.vectors.json') || key.endsWith('.error.json') || isMetadataSidecar(key);

/** Every row of a model's LanceDB table, read with LanceDB itself. */
export async function lanceRows(indexDir: string, modelId: string, file = 'onnx/model.onnx'): Promise<IndexRow[]> {
  const lancedb = await import('@lancedb/lancedb');
  const connection = await lancedb.connect(indexDir);
  try {
    const table = await connection.openTable(indexNameFor(modelId, file));
    const rows = await table.query().select(['id', 'bucket', 'key', 'etag', 'chunk', 'vector']).limit(1_000_000).toArray();
    return rows.map((row) => ({ ...row, vector: Array.from(row.vector as Iterable<number>) }) as IndexRow);
  } finally {
    connection.close();
  }
}

/** Waits until the queue is empty (nothing visible or in flight) on three looks in a row. */
export async function drained(sqs: SQSClient, queueUrl: string): Promise<void> {
  let quiet = 0;
  await waitFor(
    'the queue to drain',
    async () => {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      const busy = Number(Attributes?.ApproximateNumberOfMessages) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible);
      quiet = busy === 0 ? quiet + 1 : 0;
      return quiet >= 3 ? true : undefined;
    },
    120_000,
  );
}

/**
 * The sources in the bucket, their sidecars and the index agree: every embeddable source has a
 * current `.vectors.json` whose chunks are exactly its index rows (same etag, same vectors), a
 * refused one an `.error.json` and no rows, and nothing describes a source that is gone.
 * @returns the current sidecars by source key.
 */
export async function assertAgreement(stack: LocalStack, bucket: string, rows: IndexRow[]): Promise<Map<string, VectorsDocument>> {
  const s3 = stack.services.s3;
  const keys = await listKeys(s3, bucket);
  const sources = keys.filter((key) => !isSidecar(key));
  const documents = new Map<string, VectorsDocument>();
  for (const key of keys.filter((name) => name.endsWith('.vectors.json'))) {
    const source = key.slice(0, -'.vectors.json'.length);
    assert.ok(sources.includes(source), `${key} describes a source that is gone`);
    documents.set(source, await readJson(s3, bucket, key, vectorsDocumentSchema));
  }
  for (const key of keys.filter((name) => name.endsWith('.error.json')))
    assert.ok(sources.includes(key.slice(0, -'.error.json'.length)), `${key} describes a source that is gone`);
  for (const source of sources) {
    const outputs = [documents.has(source), keys.includes(`${source}.error.json`)];
    assert.equal(outputs.filter(Boolean).length, 1, `${source}: exactly one of .vectors.json and .error.json`);
  }
  const expected = [...documents].flatMap(([key, document]) => document.chunks.map((_, chunk) => `${bucket}/${key}#${chunk}`)).sort();
  assert.deepEqual(rows.map((row) => row.id).sort(), expected, 'index rows = chunks of the current sidecars');
  for (const row of rows) {
    const document = documents.get(row.key) as VectorsDocument;
    assert.equal(row.etag, document.source.etag, `${row.id}: etag`);
    const vector = document.chunks[row.chunk].vector as number[];
    assert.ok(cosine(row.vector, vector) > 0.99999, `${row.id}: vector`);
  }
  return documents;
}

/** A local stack with a tiny text model and a LanceDB index in a temp folder, and an SQS client on its emulator. */
export interface IndexedStack {
  readonly stack: LocalStack;
  readonly model: Awaited<ReturnType<typeof tinyModel>>;
  readonly indexDir: string;
  readonly sqs: SQSClient;
  stop(): Promise<void>;
}

export async function startIndexedStack(
  resources: Resources,
  env: Record<string, string> = {},
  hooks: Parameters<typeof startTestStack>[2] = {},
): Promise<IndexedStack> {
  const model = await tinyModel('text', { maxTokens: 16 });
  const indexDir = await mkdtemp(join(tmpdir(), 'vectorizer-index-'));
  const stack = await startTestStack(
    { MODEL_ID: 'tiny/text', MODEL_DIR: model.dir, INDEX_SINK: 'lancedb', INDEX_URI: indexDir, ...env },
    resources,
    hooks,
  );
  const sqs = new SQSClient({
    endpoint: stack.awsEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  return {
    stack,
    model,
    indexDir,
    sqs,
    async stop() {
      sqs.destroy();
      await stack.stop();
      await model.cleanup();
      await rm(indexDir, { recursive: true, force: true });
    },
  };
}
