import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../shared/config.ts';
import { resolveSessionOptions } from '../../shared/engines/session/sizing.ts';
import {
  type ConfigurationError,
  InternalError,
  type InvalidInputDataError,
  InvalidRequestError,
  toErrorBody,
  toVectorizerError,
} from '../../shared/errors.ts';
import { decodeBase64Image, textsFromFileContent } from '../../shared/request/inputs.ts';
import { bodyOf, isHttpEvent } from '../../shared/request/invoke-event.ts';
import { parseEmbeddingRequest } from '../../shared/request/schema.ts';
import { decodeUtf8, parseS3Path } from '../../shared/storage/s3.ts';

describe('parseEmbeddingRequest', () => {
  test('accepts every field of the schema', () => {
    const request = parseEmbeddingRequest({
      messages: ['a'],
      input_type: 'query',
      truncate: false,
      save_to_s3: { bucket: 'b', key: 'k.json' },
    });
    assert.deepEqual(request.messages, ['a']);
    assert.equal(request.input_type, 'query');
  });
  test('rejects unknown fields by name', () => {
    assert.throws(
      () => parseEmbeddingRequest({ messages: ['a'], mesages: ['b'] }),
      (error: InvalidRequestError) => {
        assert.equal(error.code, 'INVALID_REQUEST');
        assert.match(error.message, /unknown field "mesages"/);
        return true;
      },
    );
  });
  test('names the path of a wrongly typed element', () => {
    assert.throws(() => parseEmbeddingRequest({ messages: ['a', 3] }), /messages\[1\]/);
  });
  test('rejects empty lists', () => {
    assert.throws(() => parseEmbeddingRequest({ messages: [] }), /messages must hold at least one text/);
    assert.throws(() => parseEmbeddingRequest({ documents: [], query: 'q' }), /documents must hold at least one document/);
  });
  test('explains the image input shape', () => {
    assert.throws(
      () => parseEmbeddingRequest({ images: [{ url: 'x' }] }),
      /images\[0\]: expected \{"base64": "\.\.\."\} or \{"s3_path": "bucket\/key"\}/,
    );
  });
  test('rejects non-objects', () => {
    for (const body of [null, [], 'text', 3]) assert.throws(() => parseEmbeddingRequest(body), InvalidRequestError);
  });
  test('rejects a bad top_k and input_type', () => {
    assert.throws(() => parseEmbeddingRequest({ query: 'q', documents: ['d'], top_k: 0 }), /top_k/);
    assert.throws(() => parseEmbeddingRequest({ messages: ['a'], input_type: 'document' }), /input_type/);
  });
});

describe('S3 paths and text files', () => {
  test('parseS3Path takes bucket/key and s3://bucket/key', () => {
    assert.deepEqual(parseS3Path('b/a/c.txt', 's3_file'), { bucket: 'b', key: 'a/c.txt' });
    assert.deepEqual(parseS3Path('s3://b/a/c.txt', 's3_file'), { bucket: 'b', key: 'a/c.txt' });
  });
  test('parseS3Path refuses paths without a key, naming the field', () => {
    for (const bad of ['bucket', 'bucket/', '/key', 's3://', '']) {
      assert.throws(() => parseS3Path(bad, 's3_images[2]'), /s3_images\[2\] .* is not an S3 path/);
    }
  });
  test('a JSON array of strings is many texts; anything else is one text', () => {
    assert.deepEqual(textsFromFileContent('["a", "b"]', 'f'), ['a', 'b']);
    assert.deepEqual(textsFromFileContent('[1, 2]', 'f'), ['[1, 2]']);
    assert.deepEqual(textsFromFileContent('{"text": "x"}', 'f'), ['{"text": "x"}']);
    assert.deepEqual(textsFromFileContent('[not json', 'f'), ['[not json']);
    assert.deepEqual(textsFromFileContent('plain text\nsecond line', 'f'), ['plain text\nsecond line']);
    assert.throws(() => textsFromFileContent('[]', 's3://b/k'), /s3:\/\/b\/k holds an empty JSON array/);
  });
  test('decodeUtf8 refuses invalid UTF-8 and names the source', () => {
    assert.equal(decodeUtf8(Buffer.from('héllo'), 'x'), 'héllo');
    assert.throws(
      () => decodeUtf8(Uint8Array.from([0xff, 0xfe, 0x41]), 's3://b/latin1.txt'),
      (error: InvalidInputDataError) => {
        assert.equal(error.statusCode, 400);
        assert.match(error.message, /s3:\/\/b\/latin1.txt is not valid UTF-8/);
        return true;
      },
    );
  });
  test('decodeBase64Image accepts plain and data: URLs, refuses garbage', () => {
    const bytes = Buffer.from([1, 2, 3, 250]);
    assert.deepEqual(Buffer.from(decodeBase64Image(bytes.toString('base64'), 0)), bytes);
    assert.deepEqual(Buffer.from(decodeBase64Image(`data:image/png;base64,${bytes.toString('base64')}`, 0)), bytes);
    assert.throws(() => decodeBase64Image('not base64!!', 4), /images\[4\]\.base64 is not valid base64/);
  });
});

describe('HTTP events', () => {
  const v2 = {
    version: '2.0',
    rawPath: '/',
    requestContext: { http: { method: 'POST' } },
    body: '{"messages":["a"]}',
    isBase64Encoded: false,
  };
  test('recognises API Gateway v1/v2 and Function URL events, not direct payloads', () => {
    assert.ok(isHttpEvent(v2));
    assert.ok(isHttpEvent({ httpMethod: 'POST', requestContext: {}, body: '' }));
    assert.ok(!isHttpEvent({ messages: ['a'] }));
    assert.ok(!isHttpEvent({ messages: ['a'], requestContext: 'x' }));
  });
  test('bodyOf decodes base64 bodies and refuses bad JSON, empty and oversized bodies', () => {
    assert.deepEqual(bodyOf(v2, 1000), { messages: ['a'] });
    assert.deepEqual(bodyOf({ ...v2, body: Buffer.from('{"messages":["b"]}').toString('base64'), isBase64Encoded: true }, 1000), {
      messages: ['b'],
    });
    assert.throws(() => bodyOf({ ...v2, body: '{nope' }, 1000), /not valid JSON/);
    assert.throws(() => bodyOf({ ...v2, body: '' }, 1000), /body is empty/);
    assert.throws(
      () => bodyOf(v2, 5),
      (error: { statusCode: number }) => error.statusCode === 413,
    );
  });
});

describe('errors', () => {
  test('client errors expose their message; unexpected faults do not', () => {
    assert.deepEqual(toErrorBody(new InvalidRequestError('bad')), { error: { code: 'INVALID_REQUEST', message: 'bad', status: 400 } });
    const internal = toVectorizerError(new TypeError('secret stack detail'));
    assert.ok(internal instanceof InternalError);
    assert.equal(internal.statusCode, 500);
    assert.doesNotMatch(JSON.stringify(toErrorBody(internal)), /secret/);
  });
});

describe('loadConfig', () => {
  test('requires MODEL_ID and names it', () => {
    assert.throws(
      () => loadConfig({}),
      (error: ConfigurationError) => /MODEL_ID is not set/.test(error.message),
    );
  });
  test('reads every variable once, with defaults', () => {
    const config = loadConfig({
      MODEL_ID: 'm',
      MODEL_DIR: '/models/m',
      MAX_BATCH_TOKENS: '1024',
      OUTPUT_BUCKETS: 'a, b',
      MODEL_TYPE: 'rerank',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
    });
    assert.equal(config.model.dir, '/models/m');
    assert.equal(config.model.type, 'rerank');
    assert.equal(config.limits.maxBatchTokens, 1024);
    assert.deepEqual(config.s3.allowedOutputBuckets, ['a', 'b']);
    assert.equal(config.s3.forcePathStyle, true);
    assert.equal(config.s3.endpoint, 'http://127.0.0.1:4566');
    assert.equal(loadConfig({ MODEL_ID: 'm' }).model.hubUrl, 'https://huggingface.co');
  });
  test('metrics: on in Lambda, off elsewhere, each way overridable; API keys are digests, checked', () => {
    assert.equal(loadConfig({ MODEL_ID: 'm' }).metrics.enabled, false);
    assert.equal(loadConfig({ MODEL_ID: 'm', AWS_LAMBDA_FUNCTION_NAME: 'f' }).metrics.enabled, true);
    assert.equal(loadConfig({ MODEL_ID: 'm', AWS_LAMBDA_FUNCTION_NAME: 'f', POWERTOOLS_METRICS_DISABLED: 'true' }).metrics.enabled, false);
    assert.equal(loadConfig({ MODEL_ID: 'm', POWERTOOLS_METRICS_DISABLED: 'false' }).metrics.enabled, true);
    assert.equal(loadConfig({ MODEL_ID: 'm' }).metrics.namespace, 'ServerlessVectorizer');
    assert.equal(loadConfig({ MODEL_ID: 'm', MAX_RECEIVE_COUNT: '5' }).metrics.maxReceiveCount, 5);
    assert.throws(() => loadConfig({ MODEL_ID: 'm', MAX_RECEIVE_COUNT: '0' }), /MAX_RECEIVE_COUNT="0" is not valid/);
    const digest = 'AB'.repeat(32);
    assert.deepEqual(loadConfig({ MODEL_ID: 'm', API_KEY_SHA256: ` ${digest}, ${'cd'.repeat(32)} ` }).api.keySha256, [
      'ab'.repeat(32),
      'cd'.repeat(32),
    ]);
    assert.throws(
      () => loadConfig({ MODEL_ID: 'm', API_KEY_SHA256: 'my-secret-key' }),
      /API_KEY_SHA256 holds "my-secret-key": expected SHA-256 digests/,
    );
  });
  test('index: none by default; sinks named, checked, and a Lambda never gets a local LanceDB folder', () => {
    const defaults = loadConfig({ MODEL_ID: 'm', XDG_CACHE_HOME: '/cache' }).index;
    assert.equal(defaults.sink, 'none');
    assert.equal(defaults.uri, '/cache/serverless-vectorizer/index');
    assert.throws(
      () => loadConfig({ MODEL_ID: 'm', INDEX_SINK: 'pinecone' }),
      /INDEX_SINK="pinecone" is not valid: expected one of none, lancedb, s3vectors, auto/,
    );
    assert.throws(() => loadConfig({ MODEL_ID: 'm', INDEX_SINK: 's3vectors' }), /needs S3VECTORS_BUCKET/);
    const lambda = { MODEL_ID: 'm', AWS_LAMBDA_FUNCTION_NAME: 'worker', INDEX_SINK: 'lancedb' };
    assert.throws(() => loadConfig(lambda), /in a Lambda function: its disk does not outlive the instance/);
    assert.equal(loadConfig({ ...lambda, INDEX_URI: 's3://b/index' }).index.uri, 's3://b/index');
  });
  test('sessions and threads: set, or left to the runtime; a pool needs the session thread', () => {
    assert.deepEqual({ ...loadConfig({ MODEL_ID: 'm' }).runtime }, { thread: true, spinning: true, int8Weights: 'auto' });
    assert.deepEqual(
      { ...loadConfig({ MODEL_ID: 'm', ORT_SESSIONS: '1', ORT_INTRA_OP_THREADS: '2', ORT_INT8_WEIGHTS: 'Unsigned' }).runtime },
      { sessions: 1, intraOpThreads: 2, thread: true, spinning: true, int8Weights: 'unsigned' },
    );
    assert.throws(
      () => loadConfig({ MODEL_ID: 'm', ORT_INT8_WEIGHTS: 'u8' }),
      /ORT_INT8_WEIGHTS="u8" is not valid: expected one of auto, exported, signed, unsigned/,
    );
    assert.equal(loadConfig({ MODEL_ID: 'm', BATCH_INVARIANT: 'true' }).limits.batchInvariant, true);
    assert.throws(
      () => loadConfig({ MODEL_ID: 'm', ORT_SESSION_THREAD: 'false', ORT_SESSIONS: '2' }),
      /ORT_SESSIONS=2 needs the session thread/,
    );
    assert.throws(() => loadConfig({ MODEL_ID: 'm', ORT_SESSIONS: 'two' }), /ORT_SESSIONS="two"/);
    assert.equal(loadConfig({ MODEL_ID: 'm', ORT_WIDE_SESSION: 'false' }).runtime.wide, false);
  });
  test('unset, the cores are shared by two single-threaded sessions (and a wide one up to 512 MiB), one for models over 1 GiB', () => {
    const auto = { thread: true, spinning: true };
    assert.deepEqual(resolveSessionOptions(auto, 90e6, 2), {
      sessions: 2,
      intraOpThreads: 1,
      thread: true,
      spinning: true,
      wideThreads: 2,
    });
    assert.deepEqual(resolveSessionOptions(auto, 90e6, 6), {
      sessions: 2,
      intraOpThreads: 3,
      thread: true,
      spinning: true,
      wideThreads: 6,
    });
    assert.equal(resolveSessionOptions(auto, 90e6, 1).sessions, 1);
    assert.equal(resolveSessionOptions(auto, 90e6, 1).wideThreads, 0);
    assert.equal(resolveSessionOptions(auto, 700e6, 2).wideThreads, 0);
    assert.equal(resolveSessionOptions({ ...auto, wide: false }, 90e6, 2).wideThreads, 0);
    assert.deepEqual(resolveSessionOptions(auto, 2.2e9, 2), {
      sessions: 1,
      intraOpThreads: 2,
      thread: true,
      spinning: true,
      wideThreads: 0,
    });
    assert.equal(resolveSessionOptions({ ...auto, thread: false }, 90e6, 2).sessions, 1);
    assert.deepEqual(resolveSessionOptions({ ...auto, sessions: 3, intraOpThreads: 1 }, 2.2e9, 2).sessions, 3);
  });
  test('bad values name the variable, the value and what was expected', () => {
    assert.throws(
      () => loadConfig({ MODEL_ID: 'm', MAX_BATCH_TOKENS: 'lots' }),
      /MAX_BATCH_TOKENS="lots" is not valid: expected an integer >= 1/,
    );
    assert.throws(
      () => loadConfig({ MODEL_ID: 'm', MODEL_TYPE: 'audio' }),
      /MODEL_TYPE="audio" is not valid: expected one of text, image, sparse, rerank/,
    );
    assert.throws(() => loadConfig({ MODEL_ID: 'm', MODEL_DOWNLOAD: 'maybe' }), /MODEL_DOWNLOAD="maybe"/);
  });
  test('on Lambda the cache lives in /tmp', () => {
    assert.equal(loadConfig({ MODEL_ID: 'm', AWS_LAMBDA_FUNCTION_NAME: 'f' }).model.cacheDir, '/tmp/serverless-vectorizer/models');
  });
});
