/** `npm start` driven as a user would: start, upload with the AWS SDK, wait, invoke over HTTP, stop. */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import OpenAI from 'openai';
import { REPO_DIR } from '../helpers/shared-dir.ts';
import { waitFor } from '../helpers/stack.ts';
import { tinyModel } from '../helpers/tiny.ts';

describe('npm start', () => {
  let model: Awaited<ReturnType<typeof tinyModel>>;
  let child: ChildProcess;
  let output = '';

  before(async () => {
    model = await tinyModel('text');
  });
  after(async () => {
    // The whole group (npm and the node it started): a failed test must not leave the ports taken.
    if (child?.pid && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await model?.cleanup();
  });

  test('runs the whole pipeline on 127.0.0.1:4566 and :9000 and stops cleanly on Ctrl-C', async () => {
    child = spawn('npm', ['start', '--silent'], {
      cwd: REPO_DIR,
      // The index and the emulator's state in the model's temp folder, not the user's cache.
      env: {
        ...process.env,
        MODEL_ID: 'tiny/text',
        MODEL_DIR: model.dir,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        INDEX_URI: join(model.dir, 'index'),
        LOCAL_DATA_DIR: join(model.dir, 'local-stack'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    await waitFor('the stack to come up', async () => (output.includes('Ctrl-C stops everything') ? true : undefined), 60_000);
    assert.match(output, /http:\/\/127\.0\.0\.1:4566/);
    assert.match(output, /http:\/\/127\.0\.0\.1:9000\/2015-03-31\/functions\/function\/invocations/);
    assert.match(output, /vectorizer-input/);
    assert.match(output, /OpenAI, TEI\s+http:\/\/127\.0\.0\.1:9000\/v1\/embeddings/);
    assert.ok(output.includes(`search index     LanceDB ${join(model.dir, 'index')}`), 'the banner says where the index is');
    assert.ok(output.includes(`emulator state   ${join(model.dir, 'local-stack')}`), 'and where the emulator keeps its state');

    const s3 = new S3Client({
      endpoint: 'http://127.0.0.1:4566',
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'any', secretAccessKey: 'any' },
    });
    await s3.send(new PutObjectCommand({ Bucket: 'vectorizer-input', Key: 'docs/hello.txt', Body: 'hello world, a cat sits on the mat' }));
    const document = await waitFor('docs/hello.txt.vectors.json', async () => {
      try {
        const response = await s3.send(new GetObjectCommand({ Bucket: 'vectorizer-input', Key: 'docs/hello.txt.vectors.json' }));
        return JSON.parse(await response.Body!.transformToString()) as { count: number; source: { key: string } };
      } catch {
        return undefined;
      }
    });
    assert.equal(document.source.key, 'docs/hello.txt');
    assert.ok(document.count >= 1);
    s3.destroy();

    const response = await fetch('http://127.0.0.1:9000/2015-03-31/functions/function/invocations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: ['Hello world', 'How are you?'] }),
    });
    assert.equal(response.status, 200);
    const invoked = (await response.json()) as { count: number; embeddings: number[][] };
    assert.equal(invoked.count, 2);
    // OpenAI's client on the same port (its default base64 encoding): the same vectors.
    const openai = new OpenAI({ baseURL: 'http://127.0.0.1:9000/v1', apiKey: 'unused', maxRetries: 0 });
    const viaOpenAI = await openai.embeddings.create({ model: 'tiny/text', input: ['Hello world', 'How are you?'] });
    assert.deepEqual(
      viaOpenAI.data.map((item) => item.embedding),
      invoked.embeddings,
    );
    assert.ok(viaOpenAI.usage.prompt_tokens > 0);
    // TEI's /embed too.
    const tei = await fetch('http://127.0.0.1:9000/embed', { method: 'POST', body: JSON.stringify({ inputs: 'Hello world' }) });
    assert.deepEqual(await tei.json(), [invoked.embeddings[0]]);
    // Logged once the index has the vectors too, which follows the sidecar by a moment.
    await waitFor('the worker to log the file', async () => (output.includes('"message":"object embedded"') ? true : undefined), 20_000);
    // The live summary: stderr is a pipe here, so no line redrawn in place, and one line once the queue drains.
    await waitFor(
      'the summary line',
      async () => (/queue drained: 1 file in [\d.]+ s \(1 embedded, 0 errors\)/.test(output) ? true : undefined),
      20_000,
    );
    assert.ok(!output.includes('\x1b[K'), 'no terminal control codes in a pipe');

    // Ctrl-C reaches the whole process group, as in a terminal.
    process.kill(-child.pid!, 'SIGINT');
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
    );
    // npm itself may end on the SIGINT it shares with its child; the stack must have stopped cleanly.
    assert.ok(code === 0 || signal === 'SIGINT', `exit ${code} ${signal}`);
    assert.match(output, /Stopping \(in-flight work is stored[^\n]*\n\s*Stopped\./);
    await waitFor(
      'the ports to close',
      async () => {
        const open = await fetch('http://127.0.0.1:9000/').then(
          () => true,
          () => false,
        );
        return open ? undefined : true;
      },
      10_000,
    );
  });

  test('offline with no model: says how to set MODEL_DIR and exits non-zero', async () => {
    const cache = await mkdtemp(join(tmpdir(), 'vectorizer-cache-'));
    const run = spawnSync(process.execPath, [join(REPO_DIR, 'bin', 'vectorizer.ts'), 'start', '--aws-port', '0', '--invoke-port', '0'], {
      env: {
        ...process.env,
        MODEL_ID: '',
        MODEL_DIR: '',
        MODEL_CACHE_DIR: cache,
        HF_ENDPOINT: 'http://127.0.0.1:9',
        POWERTOOLS_LOG_LEVEL: 'ERROR',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    await rm(cache, { recursive: true, force: true });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /Xenova\/bge-small-en-v1\.5/);
    assert.match(run.stderr, /Set MODEL_DIR/);
    // Before anything else (a machine offline may wait long for its DNS): what to set, and how to get a folder.
    const first = run.stderr.split('\n').slice(0, 5).join('\n');
    assert.match(first, /^Model Xenova\/bge-small-en-v1\.5 is not in the cache .*: downloading it from http:\/\/127\.0\.0\.1:9/);
    assert.match(first, /MODEL_DIR=\/path\/to\/folder npm start/);
    assert.match(first, /onnx\/model\.onnx, config\.json, tokenizer\.json/);
    assert.match(first, /npx vectorizer download --model Xenova\/bge-small-en-v1\.5 --dir \/path\/to\/folder/);
  });
});
