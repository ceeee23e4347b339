/**
 * The OpenAI and TEI routes, served by the local invoke server as a Function URL (what `npm start`
 * runs), called with the official `openai` client, `@huggingface/inference` and plain fetch; their
 * answers hold the vectors of the invoke schema for the same texts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InferenceClient } from '@huggingface/inference';
import OpenAI from 'openai';
import { startInvokeServer } from '../../local/invoke-server.ts';
import { createInvokeHandler } from '../../shared/invoke-handler.ts';
import { logger } from '../../shared/logger.ts';
import type { Services } from '../../shared/services.ts';
import { invokeDense, invokeRerank, invokeSparse, servicesFor } from '../helpers/services.ts';
import { REPO_DIR } from '../helpers/shared-dir.ts';
import { tinyModel } from '../helpers/tiny.ts';

const NOMIC = 'nomic-ai/nomic-embed-text-v1.5';
const TEXTS = ['a cat sat on the mat', 'the quick brown fox', 'hello'];

interface Served {
  services: Services;
  url: string;
  stop(): Promise<void>;
}

async function serve(env: Record<string, string>): Promise<Served> {
  const services = await servicesFor({ MAX_INPUTS: '400', ...env });
  const handler = await createInvokeHandler(services);
  const server = await startInvokeServer({
    port: 0,
    functions: { function: (event, context) => handler(event, context as never) },
    functionUrl: (event, context) => handler(event, context as never),
    logger,
  });
  return {
    services,
    url: server.url,
    stop: async () => {
      await server.stop();
      await services.dispose();
    },
  };
}

async function post(url: string, body: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

function norm(vector: readonly number[]): number {
  return Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
}

/** nomic v1.5's card, written out: layer norm of the whole vector, truncate, L2-normalise. */
function nomicShortened(vector: readonly number[], size: number): number[] {
  const mean = vector.reduce((sum, value) => sum + value, 0) / vector.length;
  const centred = vector.slice(0, size).map((value) => value - mean);
  const length = norm(centred);
  return centred.map((value) => value / length);
}

function assertClose(actual: readonly number[], expected: readonly number[], tolerance: number): void {
  assert.equal(actual.length, expected.length);
  const worst = Math.max(...actual.map((value, index) => Math.abs(value - expected[index])));
  assert.ok(worst <= tolerance, `largest difference ${worst} > ${tolerance}`);
}

describe('OpenAI- and TEI-compatible routes on the local invoke server', () => {
  const models: { cleanup(): Promise<void> }[] = [];
  let nomic: Served;
  let plain: Served;
  let sparse: Served;
  let rerank: Served;

  before(async () => {
    const [matryoshkaModel, textModel, sparseModel, rerankModel] = await Promise.all([
      tinyModel('text', { hidden: 768 }),
      tinyModel('text'),
      tinyModel('sparse'),
      tinyModel('rerank'),
    ]);
    models.push(matryoshkaModel, textModel, sparseModel, rerankModel);
    [nomic, plain, sparse, rerank] = await Promise.all([
      serve({ MODEL_ID: NOMIC, MODEL_DIR: matryoshkaModel.dir }),
      serve({ MODEL_ID: 'tiny/text', MODEL_DIR: textModel.dir }),
      serve({ MODEL_ID: 'tiny/splade', MODEL_DIR: sparseModel.dir }),
      serve({ MODEL_ID: 'tiny/cross-encoder', MODEL_DIR: rerankModel.dir }),
    ]);
  });
  after(async () => {
    await Promise.all([nomic, plain, sparse, rerank].map((served) => served?.stop()));
    await Promise.all(models.map((model) => model.cleanup()));
  });

  const openai = (served: Served) => new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'unused', maxRetries: 0 });

  test('openai embeddings.create: the vectors of the invoke schema, as floats and as base64 (its default), with usage', async () => {
    const expected = await invokeDense(nomic.services, { messages: TEXTS });
    const floats = await openai(nomic).embeddings.create({ model: NOMIC, input: TEXTS, encoding_format: 'float' });
    // The client asks for base64 when no format is given, and decodes it itself.
    const decoded = await openai(nomic).embeddings.create({ model: NOMIC, input: TEXTS });
    for (const answer of [floats, decoded]) {
      assert.equal(answer.object, 'list');
      assert.equal(answer.model, NOMIC);
      assert.deepEqual(
        answer.data.map((item) => item.index),
        [0, 1, 2],
      );
      assert.deepEqual(
        answer.data.map((item) => item.embedding),
        expected.embeddings,
      );
      assert.deepEqual(answer.usage, { prompt_tokens: expected.usage?.tokens, total_tokens: expected.usage?.tokens });
    }
    const raw = await post(`${nomic.url}/v1/embeddings`, { model: NOMIC, input: 'hello', encoding_format: 'base64' });
    assert.equal(typeof raw.body.data[0].embedding, 'string');
    const bytes = Buffer.from(raw.body.data[0].embedding, 'base64');
    assert.equal(bytes.length, 768 * 4);
    assert.deepEqual(
      Array.from({ length: 768 }, (_, index) => bytes.readFloatLE(index * 4)),
      expected.embeddings[2],
    );
  });

  test('dimensions on a Matryoshka model: layer norm, truncate, normalise (nomic v1.5), as the invoke schema gives it', async () => {
    const full = await invokeDense(nomic.services, { messages: TEXTS });
    const answer = await openai(nomic).embeddings.create({ model: 'nomic-embed-text-v1.5', input: TEXTS, dimensions: 256 });
    const viaInvoke = await invokeDense(nomic.services, { messages: TEXTS, dimensions: 256 });
    answer.data.forEach((item, index) => {
      assert.equal(item.embedding.length, 256);
      assert.ok(Math.abs(norm(item.embedding) - 1) < 1e-5);
      assertClose(item.embedding, nomicShortened(full.embeddings[index], 256), 1e-5);
      assert.deepEqual(item.embedding, viaInvoke.embeddings[index]);
    });
    assert.equal(viaInvoke.dimension, 256);
    // Asking for the full size changes nothing.
    const same = await openai(nomic).embeddings.create({ model: NOMIC, input: TEXTS, dimensions: 768 });
    assert.deepEqual(
      same.data.map((item) => item.embedding),
      full.embeddings,
    );
    const tooMany = await post(`${nomic.url}/v1/embeddings`, { model: NOMIC, input: 'x', dimensions: 1024 });
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.error.param, 'dimensions');
    assert.match(tooMany.body.error.message, /at most 768 \(trained sizes: 768, 512, 256, 128, 64\)/);
  });

  test('OpenAI errors: the client raises its typed errors with code, param and type', async () => {
    const client = openai(plain);
    await assert.rejects(client.embeddings.create({ model: 'tiny/text', input: 'x', dimensions: 4 }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.equal(error.code, 'unsupported_for_model');
      assert.equal(error.param, 'dimensions');
      assert.equal(error.type, 'invalid_request_error');
      assert.match(error.message, /tiny\/text was not trained for smaller vectors/);
      return true;
    });
    await assert.rejects(client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.NotFoundError);
      assert.equal(error.code, 'model_not_found');
      assert.match(error.message, /serves tiny\/text/);
      return true;
    });
    await assert.rejects(client.embeddings.create({ model: 'tiny/text', input: [[1, 2, 3]] }), /token ids/);
    await assert.rejects(client.embeddings.create({ model: 'tiny/text', input: '' }), /empty string/);
    await assert.rejects(client.embeddings.create({ model: 'tiny/text', input: [] }), /at least one text/);
    const unknown = await post(`${plain.url}/v1/embeddings`, { model: 'tiny/text', input: 'x', extra: 1 });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error.message, /unknown field "extra"/);
    const tooMany = await post(`${plain.url}/v1/embeddings`, { model: 'tiny/text', input: Array(401).fill('x') });
    assert.equal(tooMany.status, 413);
    assert.match(tooMany.body.error.message, /401 texts; the limit is 400 \(MAX_INPUTS\)/);
    // The served model's kind decides the route.
    const wrongKind = await post(`${rerank.url}/v1/embeddings`, { model: 'tiny/cross-encoder', input: 'x' });
    assert.equal(wrongKind.status, 400);
    assert.match(wrongKind.body.error.message, /serves the rerank model tiny\/cross-encoder: use POST \/rerank/);
  });

  test('many inputs (more than TEI or one batch takes) are batched, not refused', async () => {
    const texts = Array.from({ length: 300 }, (_, index) => `text number ${index} ${'word '.repeat(index % 9)}`);
    const answer = await openai(plain).embeddings.create({ model: 'tiny/text', input: texts });
    assert.equal(answer.data.length, 300);
    const expected = await invokeDense(plain.services, { messages: texts.slice(290) });
    assert.deepEqual(
      answer.data.slice(290).map((item) => item.embedding),
      expected.embeddings,
    );
  });

  test('GET /v1/models lists the served model; GET /info and /health answer as TEI does', async () => {
    const models = await openai(plain).models.list();
    assert.deepEqual(
      models.data.map((model) => model.id),
      ['tiny/text'],
    );
    const info = (await (await fetch(`${rerank.url}/info`)).json()) as Record<string, any>;
    assert.equal(info.model_id, 'tiny/cross-encoder');
    assert.ok('reranker' in info.model_type);
    assert.equal(info.max_client_batch_size, 400);
    assert.equal((await fetch(`${plain.url}/health`)).status, 200);
    const wrongMethod = await fetch(`${plain.url}/v1/embeddings`);
    assert.equal(wrongMethod.status, 405);
  });

  test('TEI /embed through @huggingface/inference: the invoke vectors; normalize=false and dimensions', async () => {
    const expected = await invokeDense(nomic.services, { messages: TEXTS });
    const client = new InferenceClient(undefined, { endpointUrl: `${nomic.url}/embed` });
    const vectors = await client.featureExtraction({ inputs: TEXTS });
    assert.deepEqual(vectors, expected.embeddings);
    const one = await post(`${nomic.url}/embed`, { inputs: 'hello' });
    assert.deepEqual(one.body, [expected.embeddings[2]]);
    assert.equal(one.headers.get('x-compute-tokens'), String((await invokeDense(nomic.services, { messages: ['hello'] })).usage?.tokens));
    const raw = await post(`${nomic.url}/embed`, { inputs: TEXTS, normalize: false });
    raw.body.forEach((vector: number[], index: number) => {
      assert.ok(Math.abs(norm(vector) - 1) > 1e-3, 'an unnormalised vector');
      const length = norm(vector);
      assertClose(
        vector.map((value) => value / length),
        expected.embeddings[index],
        1e-5,
      );
    });
    const short = await post(`${nomic.url}/embed`, { inputs: TEXTS, dimensions: 128 });
    short.body.forEach((vector: number[], index: number) => {
      assertClose(vector, nomicShortened(expected.embeddings[index], 128), 1e-5);
    });
    const query = await post(`${nomic.url}/embed`, { inputs: ['hello'], prompt_name: 'query' });
    const viaInvoke = await invokeDense(nomic.services, { messages: ['hello'], input_type: 'query' });
    assert.deepEqual(query.body, viaInvoke.embeddings);
    assert.notDeepEqual(query.body, [expected.embeddings[2]]);
  });

  test('TEI /embed_sparse and /rerank: their shapes, the invoke results', async () => {
    const expectedSparse = await invokeSparse(sparse.services, { messages: TEXTS });
    const sparseAnswer = await post(`${sparse.url}/embed_sparse`, { inputs: TEXTS });
    assert.equal(sparseAnswer.status, 200);
    assert.deepEqual(
      sparseAnswer.body,
      expectedSparse.sparse_embeddings.map(({ indices, values }) => indices.map((index, position) => ({ index, value: values[position] }))),
    );
    const documents = ['cats purr', 'dogs bark', 'the cat sat', 'fish swim'];
    const expectedRanks = await invokeRerank(rerank.services, { query: 'a cat', documents });
    const ranked = await post(`${rerank.url}/rerank`, { query: 'a cat', texts: documents });
    assert.deepEqual(
      ranked.body,
      expectedRanks.rankings.map(({ index, score }) => ({ index, score })),
    );
    const scores = ranked.body.map((item: { score: number }) => item.score);
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
    );
    const withText = await post(`${rerank.url}/rerank`, { query: 'a cat', texts: documents, return_text: true, raw_scores: true });
    const rawRanks = await invokeRerank(rerank.services, { query: 'a cat', documents, raw_scores: true });
    assert.deepEqual(
      withText.body,
      rawRanks.rankings.map(({ index, score }) => ({ index, score, text: documents[index] })),
    );
  });

  test('TEI errors: {"error", "error_type"} with TEI statuses, naming the right route', async () => {
    const wrongRoute = await post(`${rerank.url}/embed`, { inputs: ['x'] });
    assert.equal(wrongRoute.status, 422);
    assert.equal(wrongRoute.body.error_type, 'Validation');
    assert.match(wrongRoute.body.error, /use POST \/rerank/);
    const noInputs = await post(`${plain.url}/embed`, { inputs: [] });
    assert.equal(noInputs.status, 422);
    assert.match(noInputs.body.error, /`inputs` cannot be empty/);
    const empty = await post(`${rerank.url}/rerank`, { query: 'x', texts: [] });
    assert.equal(empty.status, 422);
    assert.match(empty.body.error, /`texts` cannot be empty/);
    const left = await post(`${plain.url}/embed`, { inputs: 'x', truncation_direction: 'Left' });
    assert.equal(left.status, 422);
    assert.match(left.body.error, /Left" is not supported/);
    const notJson = await fetch(`${plain.url}/embed`, { method: 'POST', body: '{oops' });
    assert.equal(notJson.status, 422);
    assert.match(((await notJson.json()) as { error: string }).error, /not valid JSON/);
    const client = new InferenceClient(undefined, { endpointUrl: `${sparse.url}/embed` });
    await assert.rejects(client.featureExtraction({ inputs: 'x' }), /use POST \/embed_sparse/);
  });

  test('with API_KEY_SHA256, HTTP callers need the key (Bearer), in the error shape of each API; direct invokes do not', async () => {
    const key = 'sk-local-test-key';
    const digest = createHash('sha256').update(key).digest('hex');
    const model = await tinyModel('text');
    models.push(model);
    const locked = await serve({ MODEL_ID: 'tiny/text', MODEL_DIR: model.dir, API_KEY_SHA256: `${'0'.repeat(64)},${digest}` });
    try {
      const good = new OpenAI({ baseURL: `${locked.url}/v1`, apiKey: key, maxRetries: 0 });
      assert.equal((await good.embeddings.create({ model: 'tiny/text', input: 'a cat' })).data.length, 1);
      const wrong = new OpenAI({ baseURL: `${locked.url}/v1`, apiKey: 'sk-wrong', maxRetries: 0 });
      await assert.rejects(wrong.embeddings.create({ model: 'tiny/text', input: 'a cat' }), (error: unknown) => {
        assert.ok(error instanceof OpenAI.AuthenticationError);
        assert.equal(error.code, 'invalid_api_key');
        return true;
      });
      const tei = await post(`${locked.url}/embed`, { inputs: 'a cat' });
      assert.equal(tei.status, 401);
      assert.equal(tei.body.error_type, 'Validation');
      assert.match(tei.body.error, /needs an API key: send it as "Authorization: Bearer <key>"/);
      const client = new InferenceClient(key, { endpointUrl: `${locked.url}/embed` });
      assert.equal(((await client.featureExtraction({ inputs: ['a cat'] })) as number[][]).length, 1);
      const own = await post(`${locked.url}/`, { messages: ['a cat'] });
      assert.equal(own.status, 401);
      assert.equal(own.body.error.code, 'INVALID_API_KEY');
      // A health check has no key, as TEI's is public.
      assert.equal((await fetch(`${locked.url}/health`)).status, 200);
      // The Invoke API is Lambda's own (IAM on AWS): no key.
      const direct = await post(`${locked.url}/2015-03-31/functions/function/invocations`, { messages: ['a cat'] });
      assert.equal(direct.status, 200);
      assert.equal(direct.body.count, 1);
    } finally {
      await locked.stop();
    }
  });

  test('the seed schema still answers at / on the same server', async () => {
    const answer = await post(`${plain.url}/`, { messages: ['a cat'] });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.count, 1);
  });

  test('vectorizer invoke --path: the same bodies, the route answer on stdout', async () => {
    const model = await tinyModel('text');
    models.push(model);
    const run = spawnSync(
      process.execPath,
      [join(REPO_DIR, 'bin', 'vectorizer.ts'), 'invoke', '--path', '/v1/embeddings', '--payload', '-'],
      {
        input: JSON.stringify({ model: 'tiny/text', input: TEXTS, encoding_format: 'float' }),
        env: { ...process.env, MODEL_ID: 'tiny/text', MODEL_DIR: model.dir },
        encoding: 'utf8',
      },
    );
    assert.equal(run.status, 0, run.stderr);
    const answer = JSON.parse(run.stdout);
    const direct = await servicesFor({ MODEL_ID: 'tiny/text', MODEL_DIR: model.dir });
    try {
      const expected = await invokeDense(direct, { messages: TEXTS });
      assert.deepEqual(
        answer.data.map((item: { embedding: number[] }) => item.embedding),
        expected.embeddings,
      );
    } finally {
      await direct.dispose();
    }
    const bad = spawnSync(process.execPath, [join(REPO_DIR, 'bin', 'vectorizer.ts'), 'invoke', '--path', '/embed', '--payload', '-'], {
      input: '{"inputs": []}',
      env: { ...process.env, MODEL_ID: 'tiny/text', MODEL_DIR: model.dir },
      encoding: 'utf8',
    });
    assert.equal(bad.status, 1);
    assert.equal(JSON.parse(bad.stdout).error_type, 'Validation');
  });
});
