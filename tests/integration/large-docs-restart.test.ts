/**
 * Killing the local stack (SIGKILL) while large documents are embedded in parts, then starting it
 * again on the same state: every document finishes, whole, with each chunk once, and nothing
 * is left in the dead-letter queue or under the parts folders.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { loadConfig } from '../../shared/config.ts';
import { createServices, type Services } from '../../shared/services.ts';
import { assertWholeDocument, expectedChunks, largeDocuments, words } from '../helpers/large-docs.ts';
import { REPO_DIR } from '../helpers/shared-dir.ts';
import { listKeys, testResources, waitFor } from '../helpers/stack.ts';
import { tinyModel } from '../helpers/tiny.ts';

const SETTINGS = { PART_TOKENS: '2000', MAX_BATCH_TOKENS: '256', CHUNK_OVERLAP_TOKENS: '4' };

describe('large documents: a killed stack finishes them after a restart', () => {
  let model: Awaited<ReturnType<typeof tinyModel>>;
  let dir: string;
  let child: ChildProcess | undefined;
  let services: Services;
  const { names, ...resources } = testResources({ timeoutSeconds: 5 });

  /** `vectorizer start` on free ports over the state in `dir`; resolves with its emulator's endpoint. */
  let output = '';
  async function start(): Promise<string> {
    output = '';
    child = spawn(
      process.execPath,
      [
        join(REPO_DIR, 'bin', 'vectorizer.ts'),
        'start',
        '--aws-port',
        '0',
        '--invoke-port',
        '0',
        '--resources',
        join(dir, 'resources.json'),
        '--data-dir',
        join(dir, 'state'),
      ],
      {
        env: { ...process.env, MODEL_ID: 'tiny/text', MODEL_DIR: model.dir, INDEX_SINK: 'none', POWERTOOLS_LOG_LEVEL: 'WARN', ...SETTINGS },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    return waitFor('the stack to come up', async () => /--endpoint-url (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1], 60_000).catch(
      (error: unknown) => {
        process.stderr.write(output);
        throw error;
      },
    );
  }

  async function kill(signal: NodeJS.Signals): Promise<void> {
    const running = child;
    if (!running?.pid || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    process.kill(-running.pid, signal);
    await exited;
  }

  before(async () => {
    model = await tinyModel('text');
    dir = await mkdtemp(join(tmpdir(), 'vectorizer-restart-'));
    await writeFile(join(dir, 'resources.json'), JSON.stringify(resources));
    services = await createServices(loadConfig({ MODEL_ID: 'tiny/text', MODEL_DIR: model.dir, INDEX_SINK: 'none', ...SETTINGS }));
  });
  after(async () => {
    await kill('SIGKILL');
    await services?.dispose();
    await model?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('SIGKILL mid-way, start again: the .txt, .jsonl and .json finish whole, once each', async () => {
    const documents = largeDocuments(6);
    const client = (endpoint: string) =>
      new S3Client({
        endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
    let s3 = client(await start());
    for (const [name, body] of Object.entries(documents))
      await s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: name, Body: body }));
    // Killed as soon as parts are stored: some of the work is done, most is not.
    await waitFor('a stored part', async () =>
      (await listKeys(s3, names.bucket)).some((key) => key.includes('.parts/')) ? true : undefined,
    );
    await kill('SIGKILL');
    s3.destroy();

    const endpoint = await start();
    s3 = client(endpoint);
    const outputs = Object.keys(documents).map((name) => `${name}.vectors.json`);
    const before = await listKeys(s3, names.bucket);
    assert.ok(
      outputs.some((key) => !before.includes(key)),
      'the kill came before every output was written (otherwise the restart proves nothing)',
    );
    await waitFor(
      'every output after the restart',
      async () => {
        const keys = await listKeys(s3, names.bucket);
        return outputs.every((key) => keys.includes(key)) ? true : undefined;
      },
      180_000,
    ).catch((error: unknown) => {
      process.stderr.write(output);
      throw error;
    });
    for (const [name, body] of Object.entries(documents))
      await assertWholeDocument(s3, names.bucket, name, await expectedChunks(services, name, body));
    await waitFor(
      'the parts to be removed',
      async () => ((await listKeys(s3, names.bucket)).some((key) => key.includes('.parts/')) ? undefined : true),
      30_000,
    );

    const sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: names.dlq }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    assert.equal(Attributes?.ApproximateNumberOfMessages, '0', 'nothing in the dead-letter queue');
    sqs.destroy();
    s3.destroy();
    await kill('SIGINT');
  });

  test('SIGTERM stops promptly, keeping what was embedded; after a restart the text finishes whole', async () => {
    const body = words(1_500_000, 21); // about 6 MB: many parts, several seconds of work here
    let s3 = new S3Client({
      endpoint: await start(),
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: 'term/big.txt', Body: body }));
    await waitFor('a stored part', async () =>
      (await listKeys(s3, names.bucket)).some((key) => key.startsWith('term/') && key.includes('.parts/')) ? true : undefined,
    );
    const stopping = performance.now();
    await kill('SIGTERM');
    const stopSeconds = (performance.now() - stopping) / 1000;
    s3.destroy();
    // In-flight work gets no more time (Lambda's deadline, at once): it stores what it did and stops.
    assert.ok(stopSeconds < 10, `stopped in ${stopSeconds.toFixed(1)} s`);
    assert.match(output, /Stopped\./);
    const endpoint = await start();
    s3 = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    assert.ok(!(await listKeys(s3, names.bucket)).includes('term/big.txt.vectors.json'), 'it was stopped before the end');
    await waitFor(
      'the output after the restart',
      async () => ((await listKeys(s3, names.bucket)).includes('term/big.txt.vectors.json') ? true : undefined),
      180_000,
    );
    await assertWholeDocument(s3, names.bucket, 'term/big.txt', await expectedChunks(services, 'term/big.txt', body));
    s3.destroy();
    await kill('SIGINT');
  });
});
