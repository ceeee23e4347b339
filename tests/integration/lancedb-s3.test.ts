/** The LanceDB sink on S3 (`INDEX_URI=s3://bucket/prefix`), through the emulator's S3 wire protocol. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { loadConfig } from '../../shared/config.ts';
import { openIndexSink } from '../../shared/index/open.ts';
import { type Emulator, startEmulator } from '../helpers/emulator.ts';
import { indexTestSpec } from '../helpers/tiny.ts';

const MODEL = indexTestSpec(4);

describe('LanceDB on S3', () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator();
  });
  after(async () => {
    await emulator?.stop();
  });

  test('INDEX_URI=s3://bucket/prefix keeps the table in the bucket, with the S3 client settings', async () => {
    const bucket = await emulator.bucket('lance');
    const config = loadConfig({ ...emulator.env, MODEL_ID: MODEL.id, INDEX_SINK: 'lancedb', INDEX_URI: `s3://${bucket}/index` });
    const sink = await openIndexSink(config.index, config.s3, MODEL);
    assert.ok(sink);
    const chunk = (index: number, vector: number[]) => ({ chunk: index, vector, text: `chunk ${index}`, start: index, end: index + 1 });
    await sink.replaceSource({
      source: { bucket: 'docs', key: 'a.txt', etag: 'v1' },
      modelId: MODEL.id,
      createdAt: new Date(0).toISOString(),
      metadata: { team: 'ml' },
      chunks: [chunk(0, [1, 0, 0, 0]), chunk(1, [0, 1, 0, 0])],
    });
    assert.equal(await sink.sourceEtag({ bucket: 'docs', key: 'a.txt' }), 'v1');
    const [best] = await sink.search([0, 1, 0, 0], { topK: 1, filter: { team: 'ml' } });
    assert.deepEqual(
      { key: best.key, chunk: best.chunk, score: Math.round(best.score * 1000) / 1000 },
      { key: 'a.txt', chunk: 1, score: 1 },
    );
    assert.deepEqual([...(await sink.listSources('docs'))], [['a.txt', 'v1']]);
    const objects = await emulator.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'index/' }));
    assert.ok((objects.Contents ?? []).length > 0, 'the table lives in the bucket');
    await sink.deleteSource({ bucket: 'docs', key: 'a.txt' });
    assert.equal(await sink.sourceEtag({ bucket: 'docs', key: 'a.txt' }), undefined);
    await sink.close();
  });
});
