/** The event pipeline on the emulator: a mixed drop, job messages, duplicates, no recursion. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { LocalStack } from '../../local/stack.ts';
import type { TextEngine } from '../../shared/kinds/text.ts';
import { cosine } from '../../shared/math/vector.ts';
import { jobErrorRecordSchema, vectorsDocumentSchema } from '../../shared/pipeline/outputs.ts';
import { denseResponseSchema } from '../../shared/request/schema.ts';
import { TINY_VOCAB } from '../fixtures/tiny-models.ts';
import { drained } from '../helpers/index-check.ts';
import { listKeys, readJson, startTestStack, testResources, waitFor } from '../helpers/stack.ts';
import { tinyModel } from '../helpers/tiny.ts';

const WORDS = TINY_VOCAB.filter((token) => /^[a-z]+$/.test(token));
const sentence = (seed: number, length: number) => Array.from({ length }, (_, i) => WORDS[(seed * 7 + i * 3) % WORDS.length]).join(' ');

/** 200 files of every supported text kind, including long documents that need several chunks. */
function mixedDrop(): Map<string, { body: string; texts: string[] }> {
  const files = new Map<string, { body: string; texts: string[] }>();
  for (let i = 0; i < 60; i++) files.set(`drop/notes ${i}.txt`, { body: sentence(i, 6), texts: [sentence(i, 6)] });
  for (let i = 0; i < 40; i++)
    files.set(`drop/readme-${i}.md`, {
      body: `# ${sentence(i, 2)}\n\n${sentence(i + 1, 5)}`,
      texts: [`# ${sentence(i, 2)}\n\n${sentence(i + 1, 5)}`],
    });
  for (let i = 0; i < 40; i++) {
    const texts = [sentence(i, 3), sentence(i + 2, 4)];
    files.set(`drop/items-${i}.json`, { body: JSON.stringify(i % 2 ? texts : texts.map((text) => ({ text, id: i }))), texts });
  }
  for (let i = 0; i < 40; i++) {
    const texts = [sentence(i, 4), sentence(i + 3, 2), sentence(i + 5, 3)];
    files.set(`drop/lines-${i}.jsonl`, {
      body: texts.map((text, n) => (n % 2 ? JSON.stringify({ text }) : JSON.stringify(text))).join('\n'),
      texts,
    });
  }
  for (let i = 0; i < 20; i++) files.set(`drop/long/doc-${i}.txt`, { body: sentence(i, 60), texts: [sentence(i, 60)] });
  return files;
}

describe('pipeline: drop files, get vectors', () => {
  let stack: LocalStack;
  let model: Awaited<ReturnType<typeof tinyModel>>;
  const resources = testResources({ batchSize: 10 });
  const bucket = resources.names.bucket;

  before(async () => {
    model = await tinyModel('text', { maxTokens: 16 });
    stack = await startTestStack({ MODEL_ID: 'tiny/text', MODEL_DIR: model.dir, CHUNK_OVERLAP_TOKENS: '4' }, resources);
  });
  after(async () => {
    await stack?.stop();
    await model?.cleanup();
  });

  test('a mixed drop of 200 files ends with exactly one correct output per file', async () => {
    const s3 = stack.services.s3;
    const files = mixedDrop();
    await Promise.all([...files].map(([key, { body }]) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))));
    const outputs = await waitFor('200 outputs', async () => {
      const keys = (await listKeys(s3, bucket)).filter((key) => key.endsWith('.vectors.json'));
      return keys.length >= files.size ? keys : undefined;
    });
    assert.deepEqual(outputs.sort(), [...files.keys()].map((key) => `${key}.vectors.json`).sort());
    assert.deepEqual(
      (await listKeys(s3, bucket)).filter((key) => key.endsWith('.error.json')),
      [],
    );

    const engine = stack.services.engine as TextEngine;
    for (const [key, { texts }] of files) {
      const document = await readJson(s3, bucket, `${key}.vectors.json`, vectorsDocumentSchema);
      assert.equal(document.source.key, key);
      assert.equal(document.source.bucket, bucket);
      assert.ok(document.source.etag);
      assert.equal(document.model_id, 'tiny/text');
      assert.equal(document.model_type, 'text');
      assert.equal(document.count, document.chunks.length);
      for (const chunk of document.chunks) {
        const text = texts[chunk.item ?? 0];
        assert.ok(chunk.start >= 0 && chunk.end <= text.length && chunk.start < chunk.end);
        assert.ok(chunk.tokens <= 16, `${key}: chunk of ${chunk.tokens} tokens`);
        assert.equal(chunk.vector?.length, document.dimension);
      }
      const items = new Set(document.chunks.map((chunk) => chunk.item ?? 0));
      assert.equal(items.size, texts.length, `${key}: every item embedded`);
      if (key.includes('/long/')) {
        assert.ok(document.chunks.length > 3, `${key} was chunked`);
        // Consecutive chunks overlap and together cover the text.
        for (let i = 1; i < document.chunks.length; i++) assert.ok(document.chunks[i].start < document.chunks[i - 1].end);
        assert.equal(document.chunks.at(-1)?.end, texts[0].length);
      }
    }
    // Spot-check values against the engine on the same chunk text.
    const sample = await readJson(s3, bucket, 'drop/long/doc-3.txt.vectors.json', vectorsDocumentSchema);
    const text = files.get('drop/long/doc-3.txt')!.texts[0];
    const expected = await engine.embed(
      sample.chunks.map((chunk) => text.slice(chunk.start, chunk.end)),
      { truncate: true, inputType: 'passage' },
    );
    for (const [i, chunk] of sample.chunks.entries()) assert.ok(cosine(chunk.vector!, expected.embeddings[i]) > 0.99999);
  });

  test('outputs trigger nothing: no new outputs or error records appear for them', async () => {
    const s3 = stack.services.s3;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'quiet/one.txt', Body: 'a cat sits on the mat' }));
    await waitFor('the output', async () => ((await listKeys(s3, bucket)).includes('quiet/one.txt.vectors.json') ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const keys = (await listKeys(s3, bucket)).filter((key) => key.startsWith('quiet/'));
    assert.deepEqual(keys.sort(), ['quiet/one.txt', 'quiet/one.txt.vectors.json']);
  });

  test('a duplicate notification rewrites nothing new (same key, skipped on matching ETag)', async () => {
    const s3 = stack.services.s3;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dup/a.txt', Body: 'the quick brown fox' }));
    const first = await waitFor('the output', async () =>
      (await listKeys(s3, bucket)).includes('dup/a.txt.vectors.json')
        ? readJson(s3, bucket, 'dup/a.txt.vectors.json', vectorsDocumentSchema)
        : undefined,
    );
    const sqs = new SQSClient({
      endpoint: stack.awsEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const event = {
      Records: [
        { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key: 'dup/a.txt', size: 19 } } },
      ],
    };
    await Promise.all(
      [1, 2, 3].map(() =>
        sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrls[resources.names.queue], MessageBody: JSON.stringify(event) })),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const again = await readJson(s3, bucket, 'dup/a.txt.vectors.json', vectorsDocumentSchema);
    assert.equal(again.created_at, first.created_at, 'the current output was kept, not recomputed');
    assert.deepEqual((await listKeys(s3, bucket)).filter((key) => key.startsWith('dup/')).sort(), ['dup/a.txt', 'dup/a.txt.vectors.json']);
    // A changed object (new ETag) is embedded again, to the same key.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dup/a.txt', Body: 'a lazy dog' }));
    const changed = await waitFor('the new output', async () => {
      const document = await readJson(s3, bucket, 'dup/a.txt.vectors.json', vectorsDocumentSchema);
      return document.source.etag !== first.source.etag ? document : undefined;
    });
    assert.equal(changed.source.size, 'a lazy dog'.length);
    sqs.destroy();
  });

  test('job messages: with save_to_s3, without (results prefix), and a bad one (error record)', async () => {
    const s3 = stack.services.s3;
    const sqs = new SQSClient({
      endpoint: stack.awsEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const queueUrl = stack.queueUrls[resources.names.queue];
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify({ messages: ['a cat', 'the fox'], save_to_s3: { bucket, key: 'jobs/explicit.json' } }),
      }),
    );
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ messages: ['hello world'] }) }));
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify({ messages: ['x'], save_to_s3: { bucket, key: 'jobs/bad.json' }, images: [] }),
      }),
    );
    const explicit = await waitFor('jobs/explicit.json', async () =>
      (await listKeys(s3, bucket)).includes('jobs/explicit.json')
        ? readJson(s3, bucket, 'jobs/explicit.json', denseResponseSchema)
        : undefined,
    );
    assert.equal(explicit.count, 2);
    const resultKey = `vectorizer-results/${sent.MessageId}.json`;
    const implicit = await waitFor(resultKey, async () =>
      (await listKeys(s3, bucket)).includes(resultKey) ? readJson(s3, bucket, resultKey, denseResponseSchema) : undefined,
    );
    assert.equal(implicit.count, 1);
    const refused = await waitFor('jobs/bad.json.error.json', async () =>
      (await listKeys(s3, bucket)).includes('jobs/bad.json.error.json')
        ? readJson(s3, bucket, 'jobs/bad.json.error.json', jobErrorRecordSchema)
        : undefined,
    );
    assert.equal(refused.error.code, 'INVALID_REQUEST');
    // The results are .json in the input bucket: their notifications came, and were not taken as documents.
    await drained(sqs, queueUrl);
    const keys = await listKeys(s3, bucket);
    for (const result of ['jobs/explicit.json', resultKey])
      for (const output of ['.vectors.json', '.error.json']) assert.ok(!keys.includes(`${result}${output}`), `${result}${output}`);
    sqs.destroy();
  });

  test('the invoke endpoint answers like Lambda, errors with X-Amz-Function-Error', async () => {
    const ok = await fetch(stack.invokeUrl, { method: 'POST', body: JSON.stringify({ messages: ['a cat'] }) });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { count: number }).count, 1);
    const bad = await fetch(stack.invokeUrl, { method: 'POST', body: JSON.stringify({ messages: [] }) });
    assert.equal(bad.status, 200);
    assert.equal(bad.headers.get('x-amz-function-error'), 'Unhandled');
    const body = (await bad.json()) as { errorType: string; errorMessage: string };
    assert.equal(body.errorType, 'InvalidRequestError');
    assert.match(body.errorMessage, /messages must hold at least one text/);
  });
});
