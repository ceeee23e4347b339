/**
 * A document whose `.vectors.json` is larger than one PUT the emulator takes (11 MiB): written as a
 * multipart upload, once, instead of being re-embedded until the DLQ.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { LocalStack } from '../../local/stack.ts';
import { vectorsDocumentSchema } from '../../shared/pipeline/outputs.ts';
import { toS3Error } from '../../shared/storage/s3.ts';
import { TINY_VOCAB } from '../fixtures/tiny-models.ts';
import { listKeys, readJson, startTestStack, testResources, waitFor } from '../helpers/stack.ts';
import { tinyModel } from '../helpers/tiny.ts';

const WORDS = TINY_VOCAB.filter((token) => /^[a-z]+$/.test(token));

describe('pipeline: large outputs', () => {
  let stack: LocalStack;
  let model: Awaited<ReturnType<typeof tinyModel>>;
  const resources = testResources({ maxReceiveCount: 2 });
  const bucket = resources.names.bucket;

  before(async () => {
    // 384-d vectors: about 8 KB of JSON per chunk, as a real MiniLM or BGE-small writes.
    model = await tinyModel('text', { maxTokens: 16, hidden: 384 });
    stack = await startTestStack({ MODEL_ID: 'tiny/text', MODEL_DIR: model.dir }, resources);
  });
  after(async () => {
    await stack?.stop();
    await model?.cleanup();
  });

  test('a .json of 1,600 short strings (a 12 MB output) gets its .vectors.json, in parts', async () => {
    const items = Array.from({ length: 1600 }, (_, i) => `${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]} ${i}`);
    await stack.services.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big/items.json', Body: JSON.stringify(items) }));
    const document = await waitFor(
      'big/items.json.vectors.json',
      async () =>
        (await listKeys(stack.services.s3, bucket)).includes('big/items.json.vectors.json')
          ? readJson(stack.services.s3, bucket, 'big/items.json.vectors.json', vectorsDocumentSchema)
          : undefined,
      90_000,
    );
    assert.equal(document.count, 1600);
    assert.equal(document.chunks[1599].item, 1599);
    assert.ok(!(await listKeys(stack.services.s3, bucket)).includes('big/items.json.error.json'));
  });

  test('S3 refusing a body as too large (413) is permanent: an error record, not a retry', () => {
    const error = toS3Error(
      Object.assign(new Error('too large'), { name: 'EntityTooLarge', $metadata: { httpStatusCode: 413 } }),
      { bucket: 'b', key: 'k' },
      'write',
    );
    assert.equal(error.code, 'PAYLOAD_TOO_LARGE');
    assert.equal(error.isClientError, true);
  });
});
