/** `vectorizer ingest` against a local stack: uploads, waits for this run's outputs, sums up, exit codes. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { S3Client } from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import type { LocalStack } from '../../local/stack.ts';
import { type IngestSummary, LOCAL_STACK_BUCKET } from '../../shared/cli/ingest.ts';
import { errorRecordSchema, vectorsDocumentSchema } from '../../shared/pipeline/outputs.ts';
import { EMULATOR_ENV } from '../helpers/emulator.ts';
import { REPO_DIR } from '../helpers/shared-dir.ts';
import { listKeys, readJson, startTestStack, testResources } from '../helpers/stack.ts';
import { tinyModel } from '../helpers/tiny.ts';

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The CLI in a child process, without blocking this one (the stack under test runs here). */
function vectorizer(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_DIR, 'bin', 'vectorizer.ts'), ...args], {
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The ETag S3 gives a single-PUT object: the MD5 of its bytes. */
const md5 = (body: string | Uint8Array) => createHash('md5').update(body).digest('hex');

async function writeFiles(root: string, files: Record<string, string | Uint8Array>): Promise<void> {
  for (const [path, body] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), body);
  }
}

describe('vectorizer ingest', () => {
  let stack: LocalStack;
  let model: Awaited<ReturnType<typeof tinyModel>>;
  let s3: S3Client;
  let env: Record<string, string>;
  const folders: string[] = [];
  const resources = testResources();
  const bucket = resources.names.bucket;
  /** Keys under this prefix reach the worker 2 s late: time for ingest to take a stale output for a new one, were it to. */
  let slowPrefix: string | undefined;
  const keysOf = (event: SQSEvent) =>
    event.Records.flatMap((record) => (JSON.parse(record.body) as { Records?: { s3: { object: { key: string } } }[] }).Records ?? []).map(
      (record) => decodeURIComponent(record.s3.object.key.replace(/\+/g, ' ')),
    );

  const folder = async (files: Record<string, string | Uint8Array>) => {
    const root = await mkdtemp(join(tmpdir(), 'vectorizer-ingest-'));
    folders.push(root);
    await writeFiles(root, files);
    return root;
  };
  const ingest = async (root: string, ...options: string[]) => {
    const run = await vectorizer(['ingest', root, '--bucket', bucket, '--json', ...options], env);
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines.length, 1, `one JSON line on stdout, got:\n${run.stdout}\nstderr:\n${run.stderr}`);
    return { ...run, summary: JSON.parse(lines[0]) as IngestSummary };
  };

  before(async () => {
    model = await tinyModel('text');
    stack = await startTestStack({ MODEL_ID: 'tiny/text', MODEL_DIR: model.dir }, resources, {
      wrapWorker: (worker) => async (event, context) => {
        const prefix = slowPrefix;
        if (prefix && keysOf(event).some((key) => key.startsWith(prefix))) await new Promise((resolve) => setTimeout(resolve, 2000));
        return worker(event, context);
      },
    });
    env = { ...EMULATOR_ENV, AWS_ENDPOINT_URL: stack.awsEndpoint };
    s3 = new S3Client({
      endpoint: stack.awsEndpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  });
  after(async () => {
    s3?.destroy();
    await stack?.stop();
    await model?.cleanup();
    for (const root of folders) await rm(root, { recursive: true, force: true });
  });

  test('uploads a folder, waits for every output and sums up embedded, errors by code and skipped files', async () => {
    // More files than are checked one by one: their outputs are found by listing.
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, index) => [`many/n${index}.txt`, `the lazy dog ${index}`]));
    const root = await folder({
      ...many,
      'a.txt': 'the cat sits on the mat',
      'b.md': '# the quick brown fox',
      'nested/deep/c.txt': 'what is machine learning',
      'latin1.txt': new Uint8Array([0x63, 0x61, 0x66, 0xe9]), // "café" in Latin-1: not UTF-8
      'broken.json': '{"not": "an array"',
      'notes.xyz': 'a type the pipeline does not embed',
      '.hidden.txt': 'the cat',
      '.git/config': '[core]',
      'old.txt.vectors.json': '{}',
    });
    const { status, stderr, summary } = await ingest(root, '--prefix', 'run1');

    assert.equal(status, 1, 'error records make the exit code 1');
    assert.equal(summary.bucket, bucket);
    assert.equal(summary.prefix, 'run1/');
    assert.equal(summary.files, 35);
    assert.equal(summary.uploaded, 35);
    assert.equal(summary.embedded, 33);
    assert.deepEqual(summary.errors, { INVALID_INPUT_DATA: 2 });
    assert.deepEqual(
      summary.failed.map((failure) => [failure.key, failure.code, failure.stage]),
      [
        ['run1/broken.json', 'INVALID_INPUT_DATA', 'pipeline'],
        ['run1/latin1.txt', 'INVALID_INPUT_DATA', 'pipeline'],
      ],
    );
    assert.match(summary.failed[1].message, /not valid UTF-8/);
    assert.deepEqual(summary.skipped, { unsupported: ['notes.xyz'], mixed_case: [], hidden: 2, outputs: 1 });
    assert.deepEqual(summary.pending, []);
    assert.equal(summary.timed_out, false);
    assert.ok(summary.seconds > 0 && summary.files_per_second > 0);
    assert.match(stderr, /ingest: 35 files from .* to s3:\/\/input-\w+\/run1\//, 'the target on stderr');
    assert.match(stderr, /35\/35 done \(33 embedded, 2 errors\)/, 'the last progress line');

    const keys = (await listKeys(s3, bucket)).filter((key) => key.startsWith('run1/'));
    for (const key of [
      'run1/a.txt.vectors.json',
      'run1/b.md.vectors.json',
      'run1/nested/deep/c.txt.vectors.json',
      'run1/many/n29.txt.vectors.json',
    ]) {
      assert.ok(keys.includes(key), `${key} in ${keys.join(', ')}`);
    }
    const record = await readJson(s3, bucket, 'run1/latin1.txt.error.json', errorRecordSchema);
    assert.equal(record.error.code, 'INVALID_INPUT_DATA');
    for (const absent of ['run1/notes.xyz', 'run1/.hidden.txt', 'run1/.git/config', 'run1/old.txt.vectors.json']) {
      assert.ok(!keys.includes(absent), `${absent} is not uploaded`);
    }
    const document = await readJson(s3, bucket, 'run1/b.md.vectors.json', vectorsDocumentSchema);
    assert.equal(document.source.etag, md5('# the quick brown fox'));
  });

  test('a second run waits for the outputs of the files that changed, not the earlier ones', async () => {
    const root = await folder({
      'same.txt': 'the cat sits on the mat',
      'changed.txt': 'the quick brown fox',
      'empty.md': '   ',
    });
    const first = await ingest(root, '--prefix', 'rerun');
    assert.equal(first.summary.embedded, 2);
    assert.deepEqual(first.summary.errors, { EMPTY_DOCUMENT: 1 });
    const before = await readJson(s3, bucket, 'rerun/changed.txt.vectors.json', vectorsDocumentSchema);

    // New contents for two files: their outputs from the first run record the old ETags.
    const changed = 'the lazy dog jumps over the quick brown fox';
    await writeFile(join(root, 'changed.txt'), changed);
    await writeFile(join(root, 'empty.md'), 'what is the capital of france');
    slowPrefix = 'rerun/';
    const second = await ingest(root, '--prefix', 'rerun').finally(() => {
      slowPrefix = undefined;
    });

    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.summary.embedded, 3);
    assert.deepEqual(second.summary.errors, {});
    // Read right after the command returned: the outputs it counted are this run's.
    const after = await readJson(s3, bucket, 'rerun/changed.txt.vectors.json', vectorsDocumentSchema);
    assert.notEqual(after.source.etag, before.source.etag);
    assert.equal(after.source.etag, md5(changed));
    const fixed = await readJson(s3, bucket, 'rerun/empty.md.vectors.json', vectorsDocumentSchema);
    assert.equal(fixed.source.etag, md5('what is the capital of france'));
    // The unchanged file's output from the first run is current (the worker skips it): it counts.
    const same = await readJson(s3, bucket, 'rerun/same.txt.vectors.json', vectorsDocumentSchema);
    assert.equal(same.source.etag, md5('the cat sits on the mat'));
  });

  test('a file no notification reaches is pending at the timeout: listed, exit code 1', async () => {
    // The test bucket notifies lower-case suffixes only: SHOUT.TXT never reaches the worker.
    const root = await folder({ 'fine.txt': 'the cat sits on the mat', 'SHOUT.TXT': 'the dog' });
    const { status, stderr, summary } = await ingest(root, '--prefix', 'timeout', '--timeout', '3');

    assert.equal(status, 1);
    assert.equal(summary.timed_out, true);
    assert.equal(summary.embedded, 1);
    assert.deepEqual(summary.pending, ['timeout/SHOUT.TXT']);
    assert.match(stderr, /1 file still without an output after --timeout 3 s/);
  });

  test('the summary for people, on stdout without --json', async () => {
    const root = await folder({ 'a.txt': 'the cat sits on the mat', 'picture.bmp': 'BM' });
    const run = await vectorizer(['ingest', root, '--bucket', bucket, '--prefix', 'human'], env);

    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^Ingested 1 file into s3:\/\/input-\w+\/human\/ in [\d.]+ s \([\d.]+ files\/s\)\n/);
    assert.match(run.stdout, /embedded {2}1\n/);
    assert.match(run.stdout, /skipped {3}1 unsupported type \(\.bmp 1\)/);
  });

  test('usage errors: exit code 2, the reason on stderr, nothing on stdout', async () => {
    const missing = await vectorizer(['ingest', '--json'], env);
    assert.equal(missing.status, 2);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /vectorizer ingest: a folder \(DIR\) is required\.\nUsage: vectorizer ingest DIR/);

    const notFolder = await vectorizer(['ingest', join(REPO_DIR, 'package.json')], env);
    assert.equal(notFolder.status, 2);
    assert.equal(notFolder.stdout, '');
    assert.match(notFolder.stderr, /is not a folder/);

    const badTimeout = await vectorizer(['ingest', REPO_DIR, '--timeout', 'soon'], env);
    assert.equal(badTimeout.status, 2);
    assert.match(badTimeout.stderr, /--timeout "soon" must be a number of seconds > 0/);
  });

  test('no stack to reach: says so, exit code 1', async () => {
    const root = await folder({ 'a.txt': 'the cat' });
    // The local stack's default target, on a port where nothing listens.
    const run = await vectorizer(['ingest', root], { ...EMULATOR_ENV, AWS_ENDPOINT_URL: '', LOCAL_AWS_PORT: '9' });
    assert.equal(run.status, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /cannot use s3:\/\/vectorizer-input at http:\/\/127\.0\.0\.1:9: .*Is `npm start` running\?/);
  });

  test("the default bucket is npm start's", async () => {
    const declared = JSON.parse(await readFile(join(REPO_DIR, 'localstack', 'resources.json'), 'utf8')) as { buckets: string[] };
    assert.equal(LOCAL_STACK_BUCKET, declared.buckets[0]);
  });
});
