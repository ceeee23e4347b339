/** The invoke path for sparse (SPLADE) and rerank (cross-encoder) models. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { sigmoid } from '../../shared/math/vector.ts';
import type { Services } from '../../shared/services.ts';
import { type Emulator, startEmulator } from '../helpers/emulator.ts';
import { invoke, invokeRerank, invokeSparse, servicesFor } from '../helpers/services.ts';
import { rejectsWithCode, tinyModel } from '../helpers/tiny.ts';

describe('invoke: sparse and rerank models', () => {
  let emulator: Emulator;
  let bucket: string;
  const cleanups: (() => Promise<void>)[] = [];
  let sparse: Services;
  let rerank: Services;

  before(async () => {
    emulator = await startEmulator();
    bucket = await emulator.bucket('sparse-rerank');
    const sparseModel = await tinyModel('sparse');
    const rerankModel = await tinyModel('rerank');
    cleanups.push(sparseModel.cleanup, rerankModel.cleanup);
    // Types come from config.json: *ForMaskedLM -> sparse, *ForSequenceClassification -> rerank.
    sparse = await servicesFor({ MODEL_ID: 'tiny/splade', MODEL_DIR: sparseModel.dir }, { s3: emulator.s3 });
    rerank = await servicesFor({ MODEL_ID: 'tiny/cross-encoder', MODEL_DIR: rerankModel.dir }, { s3: emulator.s3 });
  });
  after(async () => {
    await sparse?.dispose();
    await rerank?.dispose();
    await emulator?.stop();
    for (const cleanup of cleanups) await cleanup();
  });

  test('sparse: indices ascending, positive values, independent of batching', async () => {
    const texts = ['a cat sits on the mat', 'the quick brown fox', 'paris'];
    const together = await invokeSparse(sparse, { messages: texts });
    assert.equal(sparse.model.type, 'sparse');
    assert.equal(together.model_type, 'sparse');
    assert.equal(together.count, 3);
    for (const [index, vector] of together.sparse_embeddings.entries()) {
      assert.ok(vector.indices.length > 0);
      assert.equal(vector.indices.length, vector.values.length);
      for (let i = 1; i < vector.indices.length; i++) assert.ok(vector.indices[i] > vector.indices[i - 1]);
      for (const value of vector.values) assert.ok(value > 0);
      const alone = await invokeSparse(sparse, { messages: [texts[index]] });
      assert.deepEqual(alone.sparse_embeddings[0].indices, vector.indices);
      for (const [i, value] of alone.sparse_embeddings[0].values.entries()) assert.ok(Math.abs(value - vector.values[i]) < 1e-5);
    }
  });

  test('sparse: save_to_s3 and wrong-type fields', async () => {
    const response = await invokeSparse(sparse, { messages: ['a cat'], save_to_s3: { bucket, key: 'sparse.json' } });
    assert.equal(response.s3_location, `s3://${bucket}/sparse.json`);
    const stored = JSON.parse(
      await (await emulator.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'sparse.json' }))).Body!.transformToString(),
    );
    assert.deepEqual(stored.sparse_embeddings, response.sparse_embeddings);
    await rejectsWithCode(invoke(sparse, { s3_images: ['b/k.png'] }), 'UNSUPPORTED_FOR_MODEL');
  });

  const documents = ['a cat sits on the mat', 'paris is the capital of france', 'the quick brown fox', 'machine learning'];

  test('rerank: sigmoid scores sorted descending, documents returned by default', async () => {
    const response = await invokeRerank(rerank, { query: 'what is machine learning', documents });
    assert.equal(rerank.model.type, 'rerank');
    assert.equal(response.model_type, 'rerank');
    assert.equal(response.count, documents.length);
    assert.deepEqual([...response.rankings.map((r) => r.index)].sort(), [0, 1, 2, 3]);
    for (let i = 1; i < response.rankings.length; i++) assert.ok(response.rankings[i - 1].score >= response.rankings[i].score);
    for (const ranking of response.rankings) {
      assert.ok(ranking.score > 0 && ranking.score < 1);
      assert.equal(ranking.document, documents[ranking.index]);
    }
  });

  test('rerank: raw_scores gives the logits; top_k and return_documents:false', async () => {
    const scored = await invokeRerank(rerank, { query: 'what is machine learning', documents });
    const raw = await invokeRerank(rerank, {
      query: 'what is machine learning',
      documents,
      raw_scores: true,
      top_k: 2,
      return_documents: false,
    });
    assert.equal(raw.count, 2);
    assert.deepEqual(
      raw.rankings.map((r) => r.index),
      scored.rankings.slice(0, 2).map((r) => r.index),
    );
    for (const ranking of raw.rankings) {
      assert.equal(ranking.document, undefined);
      const same = scored.rankings.find((r) => r.index === ranking.index)!;
      assert.ok(Math.abs(sigmoid(ranking.score) - same.score) < 1e-6);
    }
  });

  test('rerank: errors for missing query/documents, texts, and over-long pairs with truncate:false', async () => {
    const missing = await rejectsWithCode(invoke(rerank, { query: 'q' }), 'UNSUPPORTED_FOR_MODEL');
    assert.match(missing.message, /needs documents/);
    await rejectsWithCode(invoke(rerank, { messages: ['a'] }), 'UNSUPPORTED_FOR_MODEL');
    await rejectsWithCode(invoke(rerank, { query: 'q', documents: [] }), 'INVALID_REQUEST');
    const long = Array.from({ length: 40 }, () => 'cat').join(' ');
    await rejectsWithCode(invoke(rerank, { query: 'a cat', documents: [long], truncate: false }), 'INPUT_TOO_LONG');
    const truncated = await invokeRerank(rerank, {
      query: 'a cat',
      documents: ['the mat', long],
    });
    assert.deepEqual(truncated.truncated, [1]);
    // [CLS] a cat [SEP] the mat [SEP] = 7 tokens, and the long pair cut to exactly the model's 16.
    assert.equal(truncated.usage.tokens, 7 + 16);
  });
});
