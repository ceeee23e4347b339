/**
 * Every contract family, end to end: a tiny model with the family's real input/output names,
 * shapes and files, loaded through its catalog id with MODEL_DIR and served by `vectorizer invoke`
 * as a user runs it (logging on, stdout parsed as the response). Expected values are recomputed
 * from the fixtures' weights. A model that does not match its contract fails at cold start with an
 * error on stderr naming the model, what was expected and what was found.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { denseResponseSchema, rerankResponseSchema, sparseResponseSchema } from '../../shared/request/schema.ts';
import {
  buildContractModel,
  type ContractFamily,
  type ContractOptions,
  RESNET_SIZE,
  referenceBgeM3Sentence,
  referenceBgeM3Sparse,
  referenceClipTokens,
  referenceContractHidden,
  referenceRerankLogit,
  referenceResnet,
} from '../fixtures/contract-models.ts';
import { TINY_VOCAB } from '../fixtures/tiny-models.ts';
import { REPO_DIR } from '../helpers/shared-dir.ts';

interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `vectorizer invoke --payload -` in a new process, with the default log level. */
function invokeCli(env: Record<string, string>, payload: unknown): Promise<CliResult> {
  const { POWERTOOLS_LOG_LEVEL: _level, MODEL_TYPE: _type, MODEL_FILE: _file, ...inherited } = process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_DIR, 'bin', 'vectorizer.ts'), 'invoke', '--payload', '-'], {
      env: { ...inherited, ORT_INTRA_OP_THREADS: '1', ORT_SESSIONS: '1', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(JSON.stringify(payload));
  });
}

/** Token ids of the tiny vocabulary: [CLS] words [SEP] (and a second segment for pairs). */
function idsOf(text: string, pair?: string): number[] {
  const words = (value: string) => value.split(' ').map((word) => TINY_VOCAB.indexOf(word));
  const cls = TINY_VOCAB.indexOf('[CLS]');
  const sep = TINY_VOCAB.indexOf('[SEP]');
  return pair === undefined ? [cls, ...words(text), sep] : [cls, ...words(text), sep, ...words(pair), sep];
}

function normalized(vector: ArrayLike<number>): number[] {
  const norm = Math.sqrt(Array.from(vector).reduce((sum, value) => sum + value * value, 0));
  return Array.from(vector, (value) => value / norm);
}

function meanOf(rows: Float32Array[]): number[] {
  return Array.from(rows[0], (_, h) => rows.reduce((sum, row) => sum + row[h], 0) / rows.length);
}

function assertClose(actual: readonly number[], expected: readonly number[], tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const worst = actual.reduce((largest, value, index) => Math.max(largest, Math.abs(value - expected[index])), 0);
  assert.ok(worst <= tolerance, `${what}: largest difference ${worst} > ${tolerance}`);
}

/** A uniform image: every preprocessed pixel of channel c is (value/255 - mean)/std whatever the resize. */
const COLOUR = [200, 80, 30] as const;
function uniformPixels(size: number, mean: readonly number[], std: readonly number[]): Float32Array {
  const plane = size * size;
  const pixels = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) pixels.fill((COLOUR[c] / 255 - mean[c]) / std[c], c * plane, (c + 1) * plane);
  return pixels;
}
const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
const CLIP = { mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711] };

async function uniformPng(width: number, height: number): Promise<string> {
  const [r, g, b] = COLOUR;
  const png = await sharp({ create: { width, height, channels: 3, background: { r, g, b } } })
    .png()
    .toBuffer();
  return png.toString('base64');
}

describe('model contracts: each family through its catalog id and `vectorizer invoke`', () => {
  let root: string;
  const folder = async (family: ContractFamily, name: string, options: ContractOptions = {}) => {
    const dir = join(root, name);
    await buildContractModel(family, dir, options);
    return dir;
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'vectorizer-contracts-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('an export without token_type_ids (jina-embeddings-v2-base-code): two inputs fed, mean pooling over real tokens', async () => {
    const dir = await folder('no-token-type', 'jina', { hidden: 768 });
    const texts = ['the quick brown fox', 'a cat'];
    const result = await invokeCli({ MODEL_ID: 'jinaai/jina-embeddings-v2-base-code', MODEL_DIR: dir }, { messages: texts });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /"message":"model loaded"/);
    const response = denseResponseSchema.parse(JSON.parse(result.stdout));
    assert.equal(response.dimension, 768);
    for (const [index, text] of texts.entries()) {
      const expected = normalized(meanOf(referenceContractHidden(idsOf(text), undefined, { hidden: 768 })));
      assertClose(response.embeddings[index], expected, 1e-5, text);
    }
    assert.equal(response.usage?.tokens, idsOf(texts[0]).length + idsOf(texts[1]).length);
  });

  test('several outputs (pooler_output first): the precedence reads last_hidden_state, CLS-pooled for bge-small', async () => {
    const dir = await folder('multi-output-text', 'bge-small', { hidden: 384 });
    const result = await invokeCli({ MODEL_ID: 'Xenova/bge-small-en-v1.5', MODEL_DIR: dir }, { messages: ['hello world'] });
    assert.equal(result.status, 0, result.stderr);
    const response = denseResponseSchema.parse(JSON.parse(result.stdout));
    const ids = idsOf('hello world');
    const expected = normalized(referenceContractHidden(ids, new Array(ids.length).fill(0), { hidden: 384 })[0]);
    assertClose(response.embeddings[0], expected, 1e-5, 'CLS of last_hidden_state');
  });

  test('BGE-M3 dense: sentence_embedding, weights in onnx/model.onnx_data and onnx/Constant_7_attr__value', async () => {
    const dir = await folder('bge-m3', 'bge-m3', { hidden: 1024 });
    const result = await invokeCli({ MODEL_ID: 'BAAI/bge-m3', MODEL_DIR: dir }, { messages: ['deep neural networks'] });
    assert.equal(result.status, 0, result.stderr);
    const response = denseResponseSchema.parse(JSON.parse(result.stdout));
    assert.equal(response.dimension, 1024);
    assertClose(
      response.embeddings[0],
      normalized(referenceBgeM3Sentence(idsOf('deep neural networks'), { hidden: 1024 })),
      1e-5,
      'bge-m3',
    );
  });

  test("BGE-M3 sparse: its sparse_linear head over token_embeddings, special tokens skipped (not SPLADE's logits)", async () => {
    const dir = await folder('bge-m3', 'bge-m3-sparse', { hidden: 1024 });
    const texts = ['the quick brown fox jumps over the lazy dog', 'machine learning'];
    const result = await invokeCli({ MODEL_ID: 'BAAI/bge-m3', MODEL_TYPE: 'sparse', MODEL_DIR: dir }, { messages: texts });
    assert.equal(result.status, 0, result.stderr);
    const response = sparseResponseSchema.parse(JSON.parse(result.stdout));
    for (const [index, text] of texts.entries()) {
      const expected = referenceBgeM3Sparse(idsOf(text), { hidden: 1024 });
      assert.ok(expected.indices.length > 0, 'the fixture gives some token a weight');
      assert.deepEqual(response.sparse_embeddings[index].indices, expected.indices, text);
      assertClose(response.sparse_embeddings[index].values, expected.values, 1e-5, text);
    }
  });

  test('rozgo/bge-reranker-v2-m3: external weights in model.onnx.data, no token_type_ids, logits per pair', async () => {
    const dir = await folder('reranker-external', 'rozgo');
    const query = 'what is machine learning';
    const documents = ['the cat sits on the mat', 'machine learning is fast'];
    const result = await invokeCli(
      { MODEL_ID: 'rozgo/bge-reranker-v2-m3', MODEL_DIR: dir },
      { query, documents, raw_scores: true, return_documents: false },
    );
    assert.equal(result.status, 0, result.stderr);
    const response = rerankResponseSchema.parse(JSON.parse(result.stdout));
    const expected = documents.map((document) => {
      const ids = idsOf(query, document);
      return referenceRerankLogit(ids, new Array(ids.length).fill(1));
    });
    const order = [0, 1].sort((a, b) => expected[b] - expected[a]);
    assert.deepEqual(
      response.rankings.map((ranking) => ranking.index),
      order,
    );
    for (const ranking of response.rankings) assert.ok(Math.abs(ranking.score - expected[ranking.index]) < 1e-4);
  });

  test('Qdrant/resnet50-onnx: input `input`, fixed-size graph, ConvNeXt preprocessing, [batch, 2048, 1, 1] flattened, no config.json', async () => {
    const dir = await folder('resnet', 'resnet', { channels: 2048 });
    const image = await uniformPng(40, 30);
    const result = await invokeCli(
      { MODEL_ID: 'Qdrant/resnet50-onnx', MODEL_DIR: dir },
      { images: [{ base64: image }, { base64: image }] },
    );
    assert.equal(result.status, 0, result.stderr);
    const response = denseResponseSchema.parse(JSON.parse(result.stdout));
    assert.equal(response.dimension, 2048);
    const expected = normalized(referenceResnet(uniformPixels(RESNET_SIZE, IMAGENET.mean, IMAGENET.std), { channels: 2048 }));
    // Pillow's fixed-point resampling may move a uniform pixel by one 8-bit step.
    for (const embedding of response.embeddings) assertClose(embedding, expected, 2e-3, 'resnet');
  });

  test('nomic-embed-vision: a [batch, tokens, dim] last_hidden_state gives token 0', async () => {
    const dir = await folder('clip-vision-3d', 'nomic-vision', { hidden: 768 });
    const result = await invokeCli(
      { MODEL_ID: 'nomic-ai/nomic-embed-vision-v1.5', MODEL_DIR: dir },
      { images: [{ base64: await uniformPng(20, 12) }] },
    );
    assert.equal(result.status, 0, result.stderr);
    const response = denseResponseSchema.parse(JSON.parse(result.stdout));
    const expected = normalized(referenceClipTokens(uniformPixels(8, CLIP.mean, CLIP.std), { hidden: 768 })[0]);
    assertClose(response.embeddings[0], expected, 2e-3, 'token 0');
  });

  /** A cold start that must fail: exit 1, CONFIGURATION_ERROR on stdout, the cause on stderr. */
  async function assertColdStartFails(env: Record<string, string>, payload: unknown, cause: RegExp): Promise<void> {
    const result = await invokeCli(env, payload);
    assert.equal(result.status, 1, result.stdout);
    assert.equal(JSON.parse(result.stdout).error.code, 'CONFIGURATION_ERROR');
    assert.match(result.stderr, cause);
  }

  test('a model that does not match its contract fails at cold start, naming the model, the expected and the found', async () => {
    const small = await folder('bge-m3', 'bge-m3-small');
    await assertColdStartFails(
      { MODEL_ID: 'BAAI/bge-m3', MODEL_DIR: small },
      { messages: ['a'] },
      /model BAAI\/bge-m3 .* has output "sentence_embedding" of shape \[batch_size, 8\]: expected .* with 1024 values per vector/,
    );
    await assertColdStartFails(
      { MODEL_ID: 'BAAI/bge-m3', MODEL_TYPE: 'rerank', MODEL_DIR: small },
      { query: 'a', documents: ['b'] },
      /model BAAI\/bge-m3 .* has no output this engine reads: expected its only output, or "logits"; found sentence_embedding, token_embeddings/,
    );
    const noConstant = await folder('bge-m3', 'bge-m3-no-constant', { hidden: 1024 });
    await rm(join(noConstant, 'onnx', 'Constant_7_attr__value'));
    await assertColdStartFails(
      { MODEL_ID: 'BAAI/bge-m3', MODEL_DIR: noConstant },
      { messages: ['a'] },
      /has no onnx\/Constant_7_attr__value: the text model BAAI\/bge-m3 \(onnx\/model\.onnx\) needs .*onnx\/model\.onnx_data/,
    );
    const noHead = await folder('bge-m3', 'bge-m3-no-head', { hidden: 1024 });
    await rm(join(noHead, 'sparse_linear.pt'));
    await assertColdStartFails(
      { MODEL_ID: 'BAAI/bge-m3', MODEL_TYPE: 'sparse', MODEL_DIR: noHead },
      { messages: ['a'] },
      /has no sparse_linear\.pt/,
    );
    const noData = await folder('reranker-external', 'rozgo-no-data');
    await rm(join(noData, 'model.onnx.data'));
    await assertColdStartFails(
      { MODEL_ID: 'rozgo/bge-reranker-v2-m3', MODEL_DIR: noData },
      { query: 'a', documents: ['b'] },
      /has no model\.onnx\.data/,
    );
    const resized = await folder('resnet', 'resnet-resized', { channels: 2048 });
    const config = { feature_extractor_type: 'ConvNextFeatureExtractor', size: 8, crop_pct: 0.875, do_normalize: true, resample: 3 };
    await writeFile(join(resized, 'preprocessor_config.json'), JSON.stringify(config));
    await assertColdStartFails(
      { MODEL_ID: 'Qdrant/resnet50-onnx', MODEL_DIR: resized },
      { images: [{ base64: await uniformPng(8, 8) }] },
      /model Qdrant\/resnet50-onnx .* takes 16 x 16 images, but its preprocessor_config\.json gives 8 x 8/,
    );
  });
});
