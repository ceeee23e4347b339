/** The local stack keeps its objects across a restart (fauxqs's data directory), outputs included. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { vectorsDocumentSchema } from '../../shared/pipeline/outputs.ts';
import { listKeys, readJson, startTestStack, testResources, waitFor } from '../helpers/stack.ts';
import { tinyModel } from '../helpers/tiny.ts';

describe('local stack: a restart keeps what was written', () => {
  let model: Awaited<ReturnType<typeof tinyModel>>;
  let dataDir: string;
  const resources = testResources();
  const bucket = resources.names.bucket;
  before(async () => {
    model = await tinyModel('text');
    dataDir = await mkdtemp(join(tmpdir(), 'vectorizer-local-state-'));
  });
  after(async () => {
    await model?.cleanup();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('objects and their outputs are there after the stack stops and starts again', async () => {
    const env = { MODEL_ID: 'tiny/text', MODEL_DIR: model.dir };
    const first = await startTestStack(env, resources, { dataDir });
    try {
      await first.services.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kept/a.txt', Body: 'a cat sits on the mat' }));
      await waitFor('the output', async () =>
        (await listKeys(first.services.s3, bucket)).includes('kept/a.txt.vectors.json') ? true : undefined,
      );
    } finally {
      await first.stop();
    }
    const second = await startTestStack(env, resources, { dataDir });
    try {
      const keys = await listKeys(second.services.s3, bucket);
      assert.deepEqual(keys.sort(), ['kept/a.txt', 'kept/a.txt.vectors.json']);
      const document = await readJson(second.services.s3, bucket, 'kept/a.txt.vectors.json', vectorsDocumentSchema);
      assert.equal(document.source.key, 'kept/a.txt');
    } finally {
      await second.stop();
    }
  });
});
