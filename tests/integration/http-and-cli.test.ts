/** API Gateway / Function URL events, and the vectorizer CLI run as a user runs it. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runInvoke } from '../../shared/cli/invoke.ts';
import { denseResponseSchema } from '../../shared/request/schema.ts';
import type { Services } from '../../shared/services.ts';
import { invoke, servicesFor } from '../helpers/services.ts';
import { REPO_DIR } from '../helpers/shared-dir.ts';
import { tinyModel } from '../helpers/tiny.ts';

interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

function httpEvent(body: string, options: { base64?: boolean; method?: string } = {}) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    headers: { 'content-type': 'application/json' },
    requestContext: { http: { method: options.method ?? 'POST', path: '/' } },
    body: options.base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: Boolean(options.base64),
  };
}

/** The CLI as a user runs it: logging at its default level (INFO), stdout and stderr apart. */
function runCli(args: string[], env: Record<string, string>, input?: string) {
  const { POWERTOOLS_LOG_LEVEL: _level, ...inherited } = process.env;
  return spawnSync(process.execPath, [join(REPO_DIR, 'bin', 'vectorizer.ts'), ...args], {
    input,
    env: { ...inherited, ...env },
    encoding: 'utf8',
  });
}

describe('HTTP events and the CLI', () => {
  let model: Awaited<ReturnType<typeof tinyModel>>;
  let runtime: Services;
  let env: Record<string, string>;

  before(async () => {
    model = await tinyModel('text');
    env = { MODEL_ID: 'tiny/text', MODEL_DIR: model.dir, MAX_INPUT_BYTES: '2000' };
    runtime = await servicesFor(env);
  });
  after(async () => {
    await runtime?.dispose();
    await model?.cleanup();
  });

  test('a Function URL / API Gateway v2 event gets an HTTP answer with a JSON body', async () => {
    const result = await invoke<HttpResult>(runtime, httpEvent('{"messages": ["a cat"]}'));
    assert.equal(result.statusCode, 200);
    assert.equal(result.headers['content-type'], 'application/json');
    assert.equal(JSON.parse(result.body).count, 1);
  });

  test('base64-encoded bodies are decoded', async () => {
    const result = await invoke<HttpResult>(runtime, httpEvent('{"messages": ["a cat", "the fox"]}', { base64: true }));
    assert.equal(result.statusCode, 200);
    assert.equal(JSON.parse(result.body).count, 2);
    const bad = await invoke<HttpResult>(runtime, { ...httpEvent('x'), body: '%%% not base64 %%%', isBase64Encoded: true });
    assert.equal(bad.statusCode, 400);
    assert.match(JSON.parse(bad.body).error.message, /marked base64 .* not valid base64/);
  });

  test('HTTP errors carry the status code and the error body', async () => {
    const cases: [ReturnType<typeof httpEvent>, number, string][] = [
      [httpEvent('{not json'), 400, 'INVALID_REQUEST'],
      [httpEvent('{"images": [{"base64": "aGk="}]}'), 400, 'UNSUPPORTED_FOR_MODEL'],
      [httpEvent(JSON.stringify({ messages: ['x'.repeat(3000)] })), 413, 'PAYLOAD_TOO_LARGE'],
      [httpEvent('', { method: 'GET' }), 405, 'METHOD_NOT_ALLOWED'],
    ];
    for (const [event, status, code] of cases) {
      const result = await invoke<HttpResult>(runtime, event);
      assert.equal(result.statusCode, status, code);
      const body = JSON.parse(result.body);
      assert.equal(body.error.code, code);
      assert.equal(body.error.status, status);
    }
  });

  test('API Gateway v1 (REST) events work too, on any path; the TEI and OpenAI paths take their own bodies', async () => {
    const rest = (path: string, body: string) =>
      invoke<HttpResult>(runtime, { httpMethod: 'POST', path, requestContext: { stage: 'prod' }, body, isBase64Encoded: false });
    assert.equal((await rest('/vectors', '{"messages": ["a"]}')).statusCode, 200);
    const tei = await rest('/embed', '{"inputs": ["a", "b"]}');
    assert.equal(tei.statusCode, 200);
    assert.equal(JSON.parse(tei.body).length, 2);
    // A named HTTP API stage stays in rawPath; the route is found after it.
    const staged = await invoke<HttpResult>(runtime, {
      ...httpEvent('{"input": "a"}'),
      rawPath: '/prod/v1/embeddings',
      requestContext: { stage: 'prod', http: { method: 'POST', path: '/prod/v1/embeddings' } },
    });
    assert.equal(staged.statusCode, 200);
    assert.equal(JSON.parse(staged.body).object, 'list');
  });

  test('vectorizer invoke --payload FILE prints the response; stdin works too', async () => {
    const payload = join(model.dir, 'payload.json');
    await writeFile(payload, JSON.stringify({ messages: ['a cat', 'the fox'] }));
    const fromFile = runCli(['invoke', '--payload', payload], env);
    assert.equal(fromFile.status, 0, fromFile.stderr);
    // stdout is the response alone (`| jq` works); the log lines went to stderr.
    const response = JSON.parse(fromFile.stdout);
    assert.equal(response.count, 2);
    assert.match(fromFile.stderr, /"message":"model loaded"/);
    const direct = await invoke<{ embeddings: number[][] }>(runtime, { messages: ['a cat', 'the fox'] });
    assert.deepEqual(response.embeddings, direct.embeddings);
    const fromStdin = runCli(['invoke', '--payload', '-'], env, '{"messages": ["a"]}');
    assert.equal(fromStdin.status, 0, fromStdin.stderr);
  });

  test('vectorizer invoke exits non-zero with an error JSON on bad requests and bad configuration', () => {
    const bad = runCli(['invoke', '--payload', '-'], env, '{"messages": []}');
    assert.equal(bad.status, 1);
    assert.equal(JSON.parse(bad.stdout).error.code, 'INVALID_REQUEST');
    const notJson = runCli(['invoke', '--payload', '-'], env, 'nope');
    assert.equal(notJson.status, 1);
    assert.match(JSON.parse(notJson.stdout).error.message, /not valid JSON/);
    const misconfigured = runCli(['invoke', '--payload', '-'], { ...env, MODEL_DIR: join(model.dir, 'missing') }, '{"messages": ["a"]}');
    assert.equal(misconfigured.status, 1);
    const body = JSON.parse(misconfigured.stdout);
    assert.equal(body.error.code, 'CONFIGURATION_ERROR');
    assert.match(body.error.message, /MODEL_DIR=.*missing.* does not exist/);
    assert.match(misconfigured.stderr, /vectorizer invoke: MODEL_DIR=.*missing.* does not exist/);
    const usage = runCli(['invoke'], env);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--payload FILE/);
  });

  test('vectorizer list-models prints the catalog in each format and filters by category', () => {
    const json = runCli(['list-models', '--format', 'json', '--category', 'rerank'], {});
    assert.equal(json.status, 0, json.stderr);
    const entries = JSON.parse(json.stdout) as { type: string; id: string }[];
    assert.ok(entries.length >= 4);
    assert.ok(entries.every((entry) => entry.type === 'rerank'));
    const markdown = runCli(['list-models', '--format', 'markdown'], {});
    assert.equal(markdown.status, 0);
    assert.match(markdown.stdout, /\| Model ID \|/);
    assert.match(markdown.stdout, /Xenova\/bge-small-en-v1\.5/);
    const table = runCli(['list-models'], {});
    assert.equal(table.status, 0);
    assert.match(table.stdout, /Qdrant\/clip-ViT-B-32-vision/);
    const bad = runCli(['list-models', '--format', 'yaml'], {});
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /table, markdown, json/);
  });

  test('vectorizer invoke honours the environment it is given, not the process environment', async () => {
    const payload = join(model.dir, 'honour.json');
    await writeFile(payload, JSON.stringify({ messages: ['a cat'] }));
    const out: string[] = [];
    const code = await runInvoke(['--payload', payload], {
      env: { MODEL_ID: 'tiny/given', MODEL_DIR: model.dir, ORT_SESSIONS: '1' },
      stdin: process.stdin,
      stdout: { write: (chunk: string) => out.push(chunk) },
      stderr: { write: () => true },
    });
    assert.equal(code, 0, out.join(''));
    assert.equal(process.env.MODEL_DIR, undefined);
    assert.equal(denseResponseSchema.parse(JSON.parse(out.join(''))).model_id, 'tiny/given');
  });

  test('a model folder that cannot load: the CLI says on stderr which model and file failed, and why', async () => {
    const broken = await tinyModel('text');
    try {
      await writeFile(join(broken.dir, 'onnx', 'model.onnx'), 'not an ONNX graph');
      const result = runCli(['invoke', '--payload', '-'], { MODEL_ID: 'tiny/broken', MODEL_DIR: broken.dir }, '{"messages": ["a"]}');
      assert.equal(result.status, 1);
      assert.equal(JSON.parse(result.stdout).error.code, 'CONFIGURATION_ERROR');
      assert.match(result.stderr, /The text model tiny\/broken could not be loaded from .*onnx\/model\.onnx: .*Protobuf parsing failed/);
    } finally {
      await broken.cleanup();
    }
  });
});
