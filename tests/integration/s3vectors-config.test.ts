/**
 * INDEX_SINK=s3vectors from the environment, as the deployment sets it (S3VECTORS_BUCKET,
 * INDEX_NAME, credentials, region), against the S3 Vectors stand-in (AWS_ENDPOINT_URL_S3VECTORS).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateIndexCommand, CreateVectorBucketCommand, S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { loadConfig } from '../../shared/config.ts';
import { indexNameFor } from '../../shared/index/keys.ts';
import { openIndexSink } from '../../shared/index/open.ts';
import { S3VECTORS_NON_FILTERABLE_KEYS } from '../../shared/index/s3vectors.ts';
import { type S3VectorsStandIn, startS3VectorsStandIn } from '../helpers/s3vectors-standin.ts';
import { indexTestSpec } from '../helpers/tiny.ts';

const MODEL = indexTestSpec(4);

describe('S3 Vectors from the configuration', () => {
  let standIn: S3VectorsStandIn;
  before(async () => {
    standIn = await startS3VectorsStandIn();
  });
  after(async () => {
    await standIn?.stop();
  });

  test('the sink the worker opens writes to the named index in the named vector bucket', async () => {
    const env = {
      MODEL_ID: MODEL.id,
      INDEX_SINK: 's3vectors',
      S3VECTORS_BUCKET: 'vectors-test',
      AWS_ENDPOINT_URL_S3VECTORS: standIn.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    };
    // What the deployment creates (serverless.yml): the bucket and the model's index.
    const admin = new S3VectorsClient({
      endpoint: standIn.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const indexName = indexNameFor(MODEL.id, MODEL.file);
    await admin.send(new CreateVectorBucketCommand({ vectorBucketName: 'vectors-test' }));
    await admin.send(
      new CreateIndexCommand({
        vectorBucketName: 'vectors-test',
        indexName,
        dataType: 'float32',
        dimension: 4,
        distanceMetric: 'cosine',
        metadataConfiguration: { nonFilterableMetadataKeys: [...S3VECTORS_NON_FILTERABLE_KEYS] },
      }),
    );
    admin.destroy();
    const config = loadConfig(env);
    const sink = await openIndexSink(config.index, config.s3, MODEL);
    assert.equal(sink?.name, 's3vectors');
    await sink?.replaceSource({
      source: { bucket: 'docs', key: 'a.txt', etag: 'v1' },
      modelId: MODEL.id,
      createdAt: new Date(0).toISOString(),
      metadata: {},
      chunks: [{ chunk: 0, vector: [0, 0, 1, 0], text: 'hello', start: 0, end: 5 }],
    });
    assert.deepEqual([...(standIn.index('vectors-test', indexName)?.keys() ?? [])], ['docs/a.txt#0']);
    const [hit] = (await sink?.search([0, 0, 1, 0], { topK: 3 })) ?? [];
    assert.equal(hit?.text, 'hello');
    await sink?.close();
    assert.throws(() => loadConfig({ ...env, S3VECTORS_BUCKET: '' }), /INDEX_SINK=s3vectors needs S3VECTORS_BUCKET/);
  });
});
