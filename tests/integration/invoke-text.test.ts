/** The invoke path for a text model: every text request field and error, S3 on the emulator. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { cosine } from '../../shared/math/vector.ts';
import type { Services } from '../../shared/services.ts';
import { buildPdf } from '../fixtures/document-builder.ts';
import { type Emulator, startEmulator } from '../helpers/emulator.ts';
import { invoke, invokeDense, servicesFor } from '../helpers/services.ts';
import { rejectsWithCode, tinyModel } from '../helpers/tiny.ts';

const norm = (vector: number[]) => Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));

describe('invoke: text model', () => {
  let emulator: Emulator;
  let model: Awaited<ReturnType<typeof tinyModel>>;
  let runtime: Services;
  let bucket: string;

  before(async () => {
    emulator = await startEmulator();
    bucket = await emulator.bucket('text');
    // The catalog row's dimension (384): the runtime checks the model's output size against it.
    model = await tinyModel('text', { maxTokens: 16, hidden: 384 });
    // An e5 id from the catalog, so the query/passage prefixes apply; files from the tiny folder.
    runtime = await servicesFor(
      {
        MODEL_ID: 'intfloat/multilingual-e5-small',
        MODEL_DIR: model.dir,
        MODEL_FILE: 'onnx/model.onnx',
        MAX_INPUTS: '8',
        OUTPUT_BUCKETS: `${bucket},other-${bucket}`,
      },
      { s3: emulator.s3 },
    );
  });
  after(async () => {
    await runtime?.dispose();
    await emulator?.stop();
    await model?.cleanup();
  });

  test('messages: one normalised vector per text, usage and the seed response fields', async () => {
    const response = await invokeDense(runtime, { messages: ['a cat sits on the mat', 'the quick brown fox'] });
    assert.equal(response.model_type, 'text');
    assert.equal(response.model_id, 'intfloat/multilingual-e5-small');
    assert.equal(response.count, 2);
    assert.equal(response.embeddings.length, 2);
    assert.equal(response.dimension, response.embeddings[0].length);
    for (const vector of response.embeddings) assert.ok(Math.abs(norm(vector) - 1) < 1e-5);
    assert.notDeepEqual(response.embeddings[0], response.embeddings[1]);
    assert.ok((response.usage?.tokens ?? 0) >= 2 * 3);
    assert.equal(response.truncated, undefined);
  });

  test('batching never changes a vector and restores the caller order', async () => {
    const texts = [
      'the quick brown fox',
      'a',
      'what is machine learning',
      'paris is the capital of france',
      'a cat sits on the mat',
      'the mat',
    ];
    const together = await invokeDense(runtime, { messages: texts });
    for (const [index, text] of texts.entries()) {
      const alone = await invokeDense(runtime, { messages: [text] });
      for (let i = 0; i < alone.embeddings[0].length; i++)
        assert.ok(Math.abs(alone.embeddings[0][i] - together.embeddings[index][i]) < 1e-5, `text ${index} dim ${i}`);
    }
  });

  test('long inputs are truncated at the model limit and reported; truncate:false refuses them', async () => {
    const long = Array.from({ length: 40 }, () => 'cat').join(' ');
    const response = await invokeDense(runtime, { messages: ['a cat', long] });
    assert.deepEqual(response.truncated, [1]);
    assert.equal(response.usage?.tokens, 4 + 16);
    const error = await rejectsWithCode(invoke(runtime, { messages: ['a cat', long], truncate: false }), 'INPUT_TOO_LONG');
    assert.equal(error.statusCode, 400);
    assert.match(error.message, /Input 1 has 42 tokens; this model accepts at most 16/);
  });

  test('input_type applies the model prefixes', async () => {
    const [asQuery, prefixed, plain] = await Promise.all([
      invokeDense(runtime, { messages: ['the fox'], input_type: 'query' }),
      invokeDense(runtime, { messages: ['query: the fox'] }),
      invokeDense(runtime, { messages: ['the fox'] }),
    ]);
    assert.deepEqual(asQuery.embeddings, prefixed.embeddings);
    assert.notDeepEqual(asQuery.embeddings, plain.embeddings);
  });

  test('s3_file: a JSON array is many texts, other content one text, both path forms', async () => {
    await emulator.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'in/many.json', Body: JSON.stringify(['a cat', 'the fox', 'the mat']) }),
    );
    await emulator.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'in/one.txt', Body: 'a cat sits on the mat' }));
    const many = await invokeDense(runtime, { s3_file: `${bucket}/in/many.json` });
    assert.equal(many.count, 3);
    const direct = await invokeDense(runtime, { messages: ['a cat', 'the fox', 'the mat'] });
    assert.deepEqual(many.embeddings, direct.embeddings);
    const one = await invokeDense(runtime, { s3_file: `s3://${bucket}/in/one.txt` });
    assert.equal(one.count, 1);
  });

  test('s3_file of a document: a PDF is one text per page, a CSV one per row, read as the worker reads them', async () => {
    const put = (key: string, body: Uint8Array | string) =>
      emulator.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    await put('in/two-pages.pdf', buildPdf([{ lines: ['a cat sits'] }, { lines: ['on the mat'] }]));
    await put('in/animals.csv', 'name,sound\ncat,purr\ndog,woof\n');
    await put('in/broken.pdf', Buffer.from('%PDF-1.4 not really'));
    const pdf = await invokeDense(runtime, { s3_file: `${bucket}/in/two-pages.pdf` });
    const pages = await invokeDense(runtime, { messages: ['a cat sits', 'on the mat'] });
    assert.equal(pdf.count, 2);
    for (const [index, vector] of pdf.embeddings.entries()) assert.ok(cosine(vector, pages.embeddings[index]) > 0.9999);
    const csv = await invokeDense(runtime, { s3_file: `${bucket}/in/animals.csv` });
    assert.deepEqual(
      csv.embeddings,
      (await invokeDense(runtime, { messages: ['name: cat\nsound: purr', 'name: dog\nsound: woof'] })).embeddings,
    );
    const broken = await rejectsWithCode(invoke(runtime, { s3_file: `${bucket}/in/broken.pdf` }), 'INVALID_INPUT_DATA');
    assert.match(broken.message, /broken\.pdf is not a readable PDF/);
  });

  test('s3_file errors: missing object (404), non-UTF-8 (400), bad path (400)', async () => {
    await emulator.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'in/latin1.txt', Body: Buffer.from([0x63, 0x61, 0x66, 0xe9]) }));
    const missing = await rejectsWithCode(invoke(runtime, { s3_file: `${bucket}/in/nope.txt` }), 'S3_OBJECT_NOT_FOUND');
    assert.equal(missing.statusCode, 404);
    assert.match(missing.message, /nope\.txt does not exist/);
    await rejectsWithCode(invoke(runtime, { s3_file: `${bucket}/in/latin1.txt` }), 'INVALID_INPUT_DATA');
    await rejectsWithCode(invoke(runtime, { s3_file: 'no-key' }), 'INVALID_REQUEST');
    await rejectsWithCode(invoke(runtime, { s3_file: `missing-bucket-${bucket}/k.txt` }), 'S3_OBJECT_NOT_FOUND');
  });

  test('INPUT_BUCKETS: s3_file reads only the buckets listed, and names them when it refuses', async () => {
    await emulator.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'in/allowed.txt', Body: 'a cat' }));
    const other = await emulator.bucket('other');
    await emulator.s3.send(new PutObjectCommand({ Bucket: other, Key: 'secret.txt', Body: 'not for requests' }));
    const limited = await servicesFor(
      { MODEL_ID: 'intfloat/multilingual-e5-small', MODEL_DIR: model.dir, MODEL_FILE: 'onnx/model.onnx', INPUT_BUCKETS: ` ${bucket} ,` },
      { s3: emulator.s3 },
    );
    try {
      assert.equal((await invokeDense(limited, { s3_file: `${bucket}/in/allowed.txt` })).count, 1);
      const refused = await rejectsWithCode(invoke(limited, { s3_file: `${other}/secret.txt` }), 'S3_ACCESS_DENIED');
      assert.equal(refused.statusCode, 403);
      assert.match(
        refused.message,
        new RegExp(`s3_file names the bucket "${other}", which requests may not read: use one of ${bucket} \\(INPUT_BUCKETS\\)`),
      );
    } finally {
      await limited.dispose();
    }
  });

  test('save_to_s3 writes the response and returns s3_location; other buckets are refused', async () => {
    const response = await invokeDense(runtime, { messages: ['a cat'], save_to_s3: { bucket, key: 'out/result.json' } });
    assert.equal(response.s3_location, `s3://${bucket}/out/result.json`);
    const stored = JSON.parse(
      await (await emulator.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'out/result.json' }))).Body!.transformToString(),
    );
    assert.deepEqual(stored.embeddings, response.embeddings);
    const refused = await rejectsWithCode(
      invoke(runtime, { messages: ['a cat'], save_to_s3: { bucket: 'elsewhere', key: 'x.json' } }),
      'S3_ACCESS_DENIED',
    );
    assert.match(refused.message, /not an allowed output bucket/);
  });

  test('wrong shapes and fields for another model type get 400s that say what to send', async () => {
    const images = await rejectsWithCode(invoke(runtime, { images: [{ base64: 'aGk=' }] }), 'UNSUPPORTED_FOR_MODEL');
    assert.match(images.message, /text model .* does not take images/);
    await rejectsWithCode(invoke(runtime, { query: 'q', documents: ['d'] }), 'UNSUPPORTED_FOR_MODEL');
    await rejectsWithCode(invoke(runtime, {}), 'UNSUPPORTED_FOR_MODEL');
    await rejectsWithCode(invoke(runtime, { messages: ['a'], s3_file: `${bucket}/in/one.txt` }), 'UNSUPPORTED_FOR_MODEL');
    await rejectsWithCode(invoke(runtime, { messages: [] }), 'INVALID_REQUEST');
    await rejectsWithCode(invoke(runtime, { messages: 'a cat' }), 'INVALID_REQUEST');
    await rejectsWithCode(invoke(runtime, ['a cat']), 'INVALID_REQUEST');
  });

  test('bad search requests get structured 4xx errors; without an index a search says how to get one', async () => {
    const noIndex = await rejectsWithCode(invoke(runtime, { search: { query: 'a cat' } }), 'UNSUPPORTED_FOR_MODEL');
    assert.match(noIndex.message, /keeps no vector index \(INDEX_SINK=none\).*set INDEX_SINK to lancedb or s3vectors/);
    assert.equal(noIndex.statusCode, 400);
    const empty = await rejectsWithCode(invoke(runtime, { search: { query: '' } }), 'INVALID_REQUEST');
    assert.match(empty.message, /search\.query must not be empty/);
    await rejectsWithCode(invoke(runtime, { search: { query: 'a', top_k: 0 } }), 'INVALID_REQUEST');
    await rejectsWithCode(invoke(runtime, { search: { query: 'a', top_k: 101 } }), 'INVALID_REQUEST');
    await rejectsWithCode(invoke(runtime, { search: { query: 'a', filter: { team: ['ml'] } } }), 'INVALID_REQUEST');
    await rejectsWithCode(invoke(runtime, { search: { query: 'a', sort: 'score' } }), 'INVALID_REQUEST');
    const both = await rejectsWithCode(invoke(runtime, { messages: ['a'], search: { query: 'a' } }), 'UNSUPPORTED_FOR_MODEL');
    assert.match(both.message, /Send only one of messages and search/);
  });

  test('more inputs than MAX_INPUTS is 413', async () => {
    const error = await rejectsWithCode(invoke(runtime, { messages: Array.from({ length: 9 }, () => 'a') }), 'PAYLOAD_TOO_LARGE');
    assert.equal(error.statusCode, 413);
  });
});
