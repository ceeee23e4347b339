/** The sample events in events/ are real: each one, loaded, cloned and pointed at test resources, works. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import type { Services } from '../../shared/services.ts';
import { createWorkerHandler } from '../../shared/worker-handler.ts';
import { type Emulator, startEmulator } from '../helpers/emulator.ts';
import { invoke, servicesFor } from '../helpers/services.ts';
import { REPO_DIR } from '../helpers/shared-dir.ts';
import { listKeys, waitFor } from '../helpers/stack.ts';
import { type TinyKind, tinyModel } from '../helpers/tiny.ts';

const load = <T = Record<string, unknown>>(name: string): T =>
  structuredClone(JSON.parse(readFileSync(join(REPO_DIR, 'events', name), 'utf8')));

describe('sample events', () => {
  let emulator: Emulator;
  let bucket: string;
  const runtimes = new Map<TinyKind, Services>();
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    emulator = await startEmulator();
    bucket = await emulator.bucket('events');
    for (const kind of ['text', 'sparse', 'rerank', 'image'] as const) {
      const model = await tinyModel(kind);
      cleanups.push(model.cleanup);
      runtimes.set(
        kind,
        await servicesFor({ MODEL_ID: `tiny/${kind}`, MODEL_DIR: model.dir, RESULTS_BUCKET: bucket }, { s3: emulator.s3 }),
      );
    }
  });
  after(async () => {
    for (const runtime of runtimes.values()) await runtime.dispose();
    await emulator?.stop();
    for (const cleanup of cleanups) await cleanup();
  });

  test('direct invoke payloads, one per model type', async () => {
    const text = await invoke<{ count: number }>(runtimes.get('text')!, load('invoke-text.json'));
    assert.equal(text.count, 2);
    const sparse = await invoke<{ count: number }>(runtimes.get('sparse')!, load('invoke-sparse.json'));
    assert.equal(sparse.count, 1);
    const rerank = await invoke<{ count: number; rankings: { document: string }[] }>(runtimes.get('rerank')!, load('invoke-rerank.json'));
    assert.equal(rerank.count, 2);
    assert.ok(rerank.rankings[0].document);
    const image = await invoke<{ embeddings: number[][] }>(runtimes.get('image')!, load('invoke-image.json'));
    assert.deepEqual(image.embeddings[0], image.embeddings[1]);
  });

  test('the API Gateway v2 event (base64 body)', async () => {
    const result = await invoke<{ statusCode: number; body: string }>(runtimes.get('text')!, load('apigateway-v2-embed.json'));
    assert.equal(result.statusCode, 200);
    assert.equal(JSON.parse(result.body).count, 2);
  });

  test('the SQS events: an S3 notification (URL-encoded key) and a job message', async () => {
    const runtime = runtimes.get('text')!;
    const worker = await createWorkerHandler(runtime);
    const notification = load<SQSEvent>('sqs-s3-notification.json');
    const body = JSON.parse(notification.Records[0].body);
    body.Records[0].s3.bucket.name = bucket;
    notification.Records[0].body = JSON.stringify(body);
    await emulator.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'docs/Quarterly report (2026).txt', Body: 'the capital of france is paris' }),
    );

    const job = load<SQSEvent>('sqs-job-message.json');
    const request = JSON.parse(job.Records[0].body);
    await emulator.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'corpus/faq.json', Body: JSON.stringify(['what is machine learning', 'a cat']) }),
    );
    request.s3_file = `${bucket}/corpus/faq.json`;
    request.save_to_s3.bucket = bucket;
    job.Records[0].body = JSON.stringify(request);

    for (const event of [notification, job]) {
      const response = await worker(event, {} as never);
      assert.deepEqual(response?.batchItemFailures, []);
    }
    const keys = await waitFor(
      'both outputs',
      async () => {
        const present = await listKeys(emulator.s3, bucket);
        return present.includes('docs/Quarterly report (2026).txt.vectors.json') && present.includes('results/faq.vectors.json')
          ? present
          : undefined;
      },
      10_000,
    );
    assert.ok(keys.length >= 4);
  });
});
