/** The local stack keeps its objects across a restart (fauxqs's data directory), outputs included. */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
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

  test('files a crash left half-written are moved aside, and the stack starts with everything else', async () => {
    const env = { MODEL_ID: 'tiny/text', MODEL_DIR: model.dir };
    const first = await startTestStack(env, resources, { dataDir });
    const put = (key: string, body: string) => first.services.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    try {
      await Promise.all([put('crash/cut-meta.txt', 'one'), put('crash/cut-body.txt', 'two two'), put('crash/fine.txt', 'three')]);
    } finally {
      await first.stop();
    }
    // What a SIGKILL between fauxqs's writes leaves: a meta file truncated to nothing, and a body
    // of another length than its meta says.
    const objects = join(dataDir, 's3', 'buckets', bucket, 'objects', 'crash');
    await writeFile(join(objects, 'cut-meta.txt.meta.json'), '');
    await writeFile(join(objects, 'cut-body.txt.data'), 'tw');
    const second = await startTestStack(env, resources, { dataDir });
    try {
      const keys = await listKeys(second.services.s3, bucket);
      assert.ok(keys.includes('crash/fine.txt'));
      assert.ok(!keys.includes('crash/cut-meta.txt') && !keys.includes('crash/cut-body.txt'));
      const fine = await second.services.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'crash/fine.txt' }));
      assert.equal(await fine.Body?.transformToString(), 'three');
    } finally {
      await second.stop();
    }
    const [quarantine] = await readdir(join(dataDir, 'damaged'));
    const moved = await readdir(join(dataDir, 'damaged', quarantine, 'buckets', bucket, 'objects', 'crash'));
    assert.deepEqual(moved.sort(), ['cut-body.txt.data', 'cut-body.txt.meta.json', 'cut-meta.txt.data', 'cut-meta.txt.meta.json']);
  });
});
