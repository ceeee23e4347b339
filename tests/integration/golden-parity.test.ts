/**
 * Reference parity with ../shared/golden (outputs of the Python reference stack on the bench
 * models). Runs whenever ../shared/models is present; CI has it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cosine, sigmoid } from '../../shared/math/vector.ts';
import { denseResponseSchema, rerankResponseSchema } from '../../shared/request/schema.ts';
import type { Services } from '../../shared/services.ts';
import { invokeDense, invokeSparse, servicesFor } from '../helpers/services.ts';
import { benchModelsDir, type Golden, NEEDS_SHARED, REPO_DIR, readGolden, SHARED_DIR } from '../helpers/shared-dir.ts';

/** Runs `vectorizer invoke` as a user would, in a new process, and parses its output. */
function cliInvoke(env: Record<string, string>, payload: unknown): Record<string, unknown> {
  const out = execFileSync(process.execPath, [join(REPO_DIR, 'bin', 'vectorizer.ts'), 'invoke', '--payload', '-'], {
    input: JSON.stringify(payload),
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR', ORT_INTRA_OP_THREADS: '2', ...env },
    maxBuffer: 256 << 20,
  });
  return JSON.parse(out.toString());
}

describe('golden parity', { skip: NEEDS_SHARED }, () => {
  let bench: string;
  let golden: Golden;
  before(() => {
    bench = benchModelsDir();
    golden = readGolden();
  });

  for (const [file, minCosine] of [
    ['onnx/model.onnx', 0.9999],
    ['onnx/model_quantized.onnx', 0.999],
  ] as const) {
    describe(`dense ${file}`, () => {
      let runtime: Services;
      let env: Record<string, string>;
      before(async () => {
        env = { MODEL_ID: 'Xenova/all-MiniLM-L6-v2', MODEL_DIR: join(bench, 'minilm-l6-dense'), MODEL_FILE: file };
        runtime = await servicesFor(env);
      });
      after(() => runtime.dispose());

      test('each text alone matches the reference embedding and token count', async () => {
        const reference = golden.dense[file.replace('onnx/', '')];
        for (const [index, text] of golden.texts.entries()) {
          const response = await invokeDense(runtime, { messages: [text] });
          const similarity = cosine(response.embeddings[0], reference.embeddings[index]);
          assert.ok(similarity >= minCosine, `text ${index}: cosine ${similarity} < ${minCosine}`);
          assert.equal(response.usage?.tokens, reference.tokens[index], `text ${index}: token count`);
        }
      });

      test('all texts in one request (vectorizer invoke) match the reference', () => {
        const reference = golden.dense[file.replace('onnx/', '')];
        const response = denseResponseSchema.parse(cliInvoke(env, { messages: golden.texts }));
        assert.equal(response.embeddings.length, golden.texts.length);
        for (const [index, embedding] of response.embeddings.entries()) {
          const similarity = cosine(embedding, reference.embeddings[index]);
          assert.ok(similarity >= minCosine, `text ${index}: cosine ${similarity} < ${minCosine}`);
        }
        // The 5220-character text is longer than 512 tokens: it is truncated and reported.
        const longest = reference.tokens.indexOf(512);
        assert.deepEqual(response.truncated, [longest]);
        assert.equal(
          response.usage?.tokens,
          reference.tokens.reduce((sum, count) => sum + count, 0),
        );
      });
    });
  }

  describe('rerank onnx/model_quantized.onnx', () => {
    let env: Record<string, string>;
    before(() => {
      env = {
        MODEL_ID: 'cross-encoder/ms-marco-MiniLM-L-6-v2',
        MODEL_DIR: join(bench, 'minilm-l6-cross-encoder'),
        MODEL_FILE: 'onnx/model_quantized.onnx',
      };
    });

    test('scores are sigmoid(reference logit) and the order follows the reference', () => {
      for (const { query, documents, logits } of golden.rerank['model_quantized.onnx']) {
        const response = rerankResponseSchema.parse(cliInvoke(env, { query, documents }));
        assert.equal(response.rankings.length, documents.length);
        for (const ranking of response.rankings) {
          assert.ok(
            Math.abs(ranking.score - sigmoid(logits[ranking.index])) <= 1e-3,
            `document ${ranking.index}: ${ranking.score} vs ${sigmoid(logits[ranking.index])}`,
          );
          assert.equal(ranking.document, documents[ranking.index]);
        }
        for (let i = 0; i < response.rankings.length; i++) {
          for (let j = i + 1; j < response.rankings.length; j++) {
            const a = logits[response.rankings[i].index];
            const b = logits[response.rankings[j].index];
            if (Math.abs(a - b) > 0.01)
              assert.ok(a > b, `reference orders ${response.rankings[j].index} before ${response.rankings[i].index}`);
          }
        }
      }
    });
  });

  describe('sparse onnx/model_quantized.onnx', () => {
    let runtime: Services;
    before(async () => {
      runtime = await servicesFor({
        MODEL_ID: 'prithivida/Splade_PP_en_v1',
        MODEL_DIR: join(bench, 'bert-base-splade'),
        MODEL_FILE: 'onnx/model_quantized.onnx',
      });
    });
    after(() => runtime.dispose());

    test('one text per request: same indices, values within 1e-3', async () => {
      for (const { text, indices, values } of golden.sparse['model_quantized.onnx']) {
        const response = await invokeSparse(runtime, { messages: [text] });
        const [vector] = response.sparse_embeddings;
        assert.deepEqual(vector.indices, indices, `indices of ${JSON.stringify(text)}`);
        for (let i = 0; i < values.length; i++)
          assert.ok(
            Math.abs(vector.values[i] - values[i]) <= 1e-3,
            `${JSON.stringify(text)}[${indices[i]}]: ${vector.values[i]} vs ${values[i]}`,
          );
      }
    });

    test('all texts in one request: cosine >= 0.99 and no reference entry >= 0.1 missing', async () => {
      const reference = golden.sparse['model_quantized.onnx'];
      const response = await invokeSparse(runtime, {
        messages: reference.map((entry) => entry.text),
      });
      for (const [row, { indices, values }] of reference.entries()) {
        const got = new Map(response.sparse_embeddings[row].indices.map((index, i) => [index, response.sparse_embeddings[row].values[i]]));
        const vocabulary = [...new Set([...indices, ...got.keys()])];
        const expected = new Map(indices.map((index, i) => [index, values[i]]));
        const similarity = cosine(
          vocabulary.map((v) => got.get(v) ?? 0),
          vocabulary.map((v) => expected.get(v) ?? 0),
        );
        assert.ok(similarity >= 0.99, `row ${row}: cosine ${similarity}`);
        for (const [index, value] of expected) if (value >= 0.1) assert.ok(got.has(index), `row ${row}: entry ${index} (${value}) missing`);
      }
    });
  });

  describe('image onnx/model_quantized.onnx', () => {
    let runtime: Services;
    before(async () => {
      runtime = await servicesFor({
        MODEL_ID: 'Qdrant/clip-ViT-B-32-vision',
        MODEL_DIR: join(bench, 'clip-vit-b32-vision'),
        MODEL_FILE: 'onnx/model_quantized.onnx',
      });
    });
    after(() => runtime.dispose());

    test('embeddings match the reference at cosine >= 0.99', async () => {
      const reference = golden.image['model_quantized.onnx'];
      const images = reference.map(({ file }) => ({ base64: readFileSync(join(SHARED_DIR, 'golden', 'images', file)).toString('base64') }));
      const response = await invokeDense(runtime, { images });
      assert.equal(response.dimension, 512);
      for (const [index, { embedding, file }] of reference.entries()) {
        const similarity = cosine(response.embeddings[index], embedding);
        assert.ok(similarity >= 0.99, `${file}: cosine ${similarity}`);
      }
    });
  });
});
