/**
 * The deployable on its own, as the image holds it: `npm run build` output (functions/ + shared/
 * only, no benchmark or local-stack code) over `npm ci --omit=dev` (no development package), in a
 * folder of its own. The compiled invoke handler serves a request and the compiled worker a job
 * message against the emulator, each in a process started from that folder.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { s3EventNotification } from '../../local/notifications.ts';
import { denseResponseSchema, searchResponseSchema } from '../../shared/request/schema.ts';
import { type Emulator, startEmulator } from '../helpers/emulator.ts';
import { REPO_DIR } from '../helpers/shared-dir.ts';
import { tinyModel } from '../helpers/tiny.ts';

const run = promisify(execFile);

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

/**
 * Runs `script` (an ES module body, written to a file: the session thread would inherit an
 * `--input-type` flag) with Node in `cwd`, with only `env` and PATH; returns its stdout.
 */
async function nodeIn(cwd: string, script: string, env: Record<string, string>): Promise<string> {
  const path = join(cwd, `run-${Date.now()}.mjs`);
  await writeFile(path, script);
  const { stdout } = await run(process.execPath, [path], { cwd, env: { PATH: process.env.PATH ?? '', ...env } });
  return stdout;
}

const CONTEXT = `{ functionName: 'f', awsRequestId: 'r', getRemainingTimeInMillis: () => 60000 }`;

describe('the deployable alone: compiled functions/ + shared/ over production dependencies', () => {
  let app: string;
  let model: Awaited<ReturnType<typeof tinyModel>>;
  let emulator: Emulator;

  before(async () => {
    app = await mkdtemp(join(tmpdir(), 'vectorizer-deployable-'));
    for (const file of ['package.json', 'package-lock.json', '.npmrc']) await cp(join(REPO_DIR, file), join(app, file));
    // What the Dockerfile runs: the build (with the repository's TypeScript), then the production install.
    await run(process.execPath, [
      join(REPO_DIR, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      join(REPO_DIR, 'tsconfig.build.json'),
      '--outDir',
      join(app, 'dist'),
    ]);
    await run('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: app,
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', ONNXRUNTIME_NODE_INSTALL_CUDA: 'skip' },
      maxBuffer: 16 * 1024 * 1024,
    });
    // As the Dockerfile does: LanceDB's optional embedding providers are never loaded.
    await rm(join(app, 'node_modules', '@lancedb', 'lancedb', 'node_modules'), { recursive: true, force: true });
    model = await tinyModel('text');
    emulator = await startEmulator();
  });
  after(async () => {
    await emulator?.stop();
    await model?.cleanup();
    if (app) await rm(app, { recursive: true, force: true });
  });

  test('the build holds the handlers and what they share, and no tooling; no development package is installed', async () => {
    const files = await filesUnder(join(app, 'dist'));
    assert.ok(files.includes(join('functions', 'invoke.js')) && files.includes(join('functions', 'worker.js')));
    assert.ok(files.includes(join('shared', 'cli', 'main.js')), 'the image build runs download and warmup from it');
    const outside = files.filter((file) => !file.startsWith(`functions/`) && !file.startsWith(`shared/`));
    assert.deepEqual(outside, []);
    assert.ok(!files.some((file) => /(^|\/)(bench|local)\//.test(file)));
    const packages = await readdir(join(app, 'node_modules'));
    for (const development of ['fauxqs', 'fastembed', 'typescript', 'serverless', '@biomejs'])
      assert.ok(!packages.includes(development), development);
    const scoped = (scope: string) => readdir(join(app, 'node_modules', scope)).catch(() => [] as string[]);
    assert.ok(!(await scoped('@huggingface')).includes('transformers'));
    // The worker sends the parts of large documents to its own queue.
    assert.ok((await scoped('@aws-sdk')).includes('client-sqs'));
  });

  test('the compiled invoke handler starts and serves a request', async () => {
    const stdout = await nodeIn(
      app,
      `const { handler } = await import('./dist/functions/invoke.js');
       process.stdout.write(JSON.stringify(await handler({ messages: ['a cat', 'the fox'] }, ${CONTEXT})));`,
      { MODEL_ID: 'tiny/text', MODEL_DIR: model.dir, POWERTOOLS_LOG_LEVEL: 'ERROR' },
    );
    const response = denseResponseSchema.parse(JSON.parse(stdout));
    assert.equal(response.count, 2);
    assert.equal(response.embeddings[0].length, 8);
  });

  test('the compiled worker starts and serves a job message, writing its result to S3', async () => {
    const bucket = await emulator.bucket('deployable');
    const event = {
      Records: [
        {
          messageId: 'm-1',
          body: JSON.stringify({ messages: ['hello world'], save_to_s3: { bucket, key: 'results/m-1.json' } }),
          eventSource: 'aws:sqs',
          attributes: {},
          messageAttributes: {},
        },
      ],
    };
    const stdout = await nodeIn(
      app,
      `const { handler } = await import('./dist/functions/worker.js');
       process.stdout.write(JSON.stringify(await handler(${JSON.stringify(event)}, ${CONTEXT})));`,
      { ...emulator.env, MODEL_ID: 'tiny/text', MODEL_DIR: model.dir, POWERTOOLS_LOG_LEVEL: 'ERROR' },
    );
    assert.deepEqual(JSON.parse(stdout), { batchItemFailures: [] });
    const object = await emulator.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'results/m-1.json' }));
    const saved = denseResponseSchema.parse(JSON.parse(await (object.Body?.transformToString() ?? '')));
    assert.equal(saved.count, 1);
  });

  test('with a LanceDB index: the compiled worker indexes a dropped file and the compiled invoke handler finds it', async () => {
    const bucket = await emulator.bucket('deployable-index');
    await emulator.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'notes/a.txt', Body: 'the quick brown fox' }));
    const event = {
      Records: [
        {
          messageId: 'm-2',
          body: JSON.stringify(
            s3EventNotification({ bucket, key: 'notes/a.txt', size: 19, region: 'us-east-1', configurationId: 'test', now: new Date() }),
          ),
          eventSource: 'aws:sqs',
          attributes: {},
          messageAttributes: {},
        },
      ],
    };
    const env = {
      ...emulator.env,
      MODEL_ID: 'tiny/text',
      MODEL_DIR: model.dir,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      INDEX_SINK: 'lancedb',
      INDEX_URI: join(app, 'index'),
    };
    const worked = await nodeIn(
      app,
      `const { handler } = await import('./dist/functions/worker.js');
       process.stdout.write(JSON.stringify(await handler(${JSON.stringify(event)}, ${CONTEXT})));`,
      env,
    );
    assert.deepEqual(JSON.parse(worked), { batchItemFailures: [] });
    const found = await nodeIn(
      app,
      `const { handler } = await import('./dist/functions/invoke.js');
       process.stdout.write(JSON.stringify(await handler({ search: { query: 'quick brown fox' } }, ${CONTEXT})));`,
      env,
    );
    const response = searchResponseSchema.parse(JSON.parse(found));
    assert.deepEqual(
      response.results.map((result) => `${result.bucket}/${result.key}#${result.chunk}`),
      [`${bucket}/notes/a.txt#0`],
    );
  });
});
