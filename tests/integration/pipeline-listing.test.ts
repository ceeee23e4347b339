/**
 * The worker's per-file checks (is there an output, a metadata sidecar, a stale error record; has
 * the source changed since it was read) are answered by one listing for the files of a batch, on
 * the local stack with LanceDB for real: the outcome equals the per-file requests', in far fewer
 * requests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { countS3Calls } from '../../bench/pipeline.ts';
import { s3EventNotification } from '../../local/notifications.ts';
import type { LocalStack } from '../../local/stack.ts';
import { searchResponseSchema } from '../../shared/request/schema.ts';
import { drained as drainedQueue, type IndexedStack, startIndexedStack } from '../helpers/index-check.ts';
import { invoke } from '../helpers/services.ts';
import { listKeys, testResources, waitFor } from '../helpers/stack.ts';

describe('pipeline: a batch of files in one folder is checked by a listing', () => {
  let indexed: IndexedStack;
  let stack: LocalStack;
  let sqs: SQSClient;
  // Only .txt files are announced by the bridge: the .md drop below comes as one message of many records.
  const resources = testResources({ batchSize: 10, suffixes: ['.txt'] });
  const bucket = resources.names.bucket;
  const files = Array.from({ length: 24 }, (_, index) => `listed/file-${index}.md`);

  before(async () => {
    indexed = await startIndexedStack(resources);
    ({ stack, sqs } = indexed);
  });
  after(async () => {
    await indexed?.stop();
  });

  const put = (key: string, body: string) => stack.services.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const queueUrl = () => stack.queueUrls[resources.names.queue];

  test('stale error records go, metadata sidecars reach the index, and each file costs about two requests', async () => {
    // Before the drop: a metadata sidecar beside every fourth file, a stale error record beside the next.
    for (const [index, key] of files.entries()) {
      if (index % 4 === 0) await put(`${key}.metadata.json`, JSON.stringify({ metadataAttributes: { batch: 'listed' } }));
      if (index % 4 === 1) await put(`${key}.error.json`, JSON.stringify({ error: { code: 'OLD' } }));
    }
    const etags = new Map<string, string>();
    for (const [index, key] of files.entries()) {
      const written = await put(key, `listed file number ${index} about vector search`);
      etags.set(key, String(written.ETag).replaceAll('"', ''));
    }
    const calls = countS3Calls(stack.services.s3 as unknown as Parameters<typeof countS3Calls>[0]);
    // The test's own reads go through a client of their own, so only the worker's requests are counted.
    const reader = new S3Client({
      endpoint: stack.awsEndpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      const records = files.flatMap(
        (key) =>
          s3EventNotification({ bucket, key, size: 1, etag: etags.get(key), region: 'us-east-1', configurationId: 'drop', now: new Date() })
            .Records,
      );
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl(), MessageBody: JSON.stringify({ Records: records }) }));
      await waitFor('every file embedded', async () => {
        const keys = new Set(await listKeys(reader, bucket));
        return files.every((key) => keys.has(`${key}.vectors.json`)) ? keys : undefined;
      });
      await drainedQueue(sqs, queueUrl());
      const counts = calls.take();

      const keys = new Set(await listKeys(reader, bucket));
      assert.deepEqual(
        files.filter((key) => keys.has(`${key}.error.json`)),
        [],
        'the stale error records are removed',
      );
      const found = searchResponseSchema
        .parse(await invoke(stack.services, { search: { query: 'vector search', top_k: 50, filter: { batch: 'listed' } } }))
        .results.map((result) => result.key)
        .sort();
      assert.deepEqual(found, files.filter((_, index) => index % 4 === 0).sort(), 'the sidecars metadata is in the index');

      const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
      assert.ok(
        (counts.get('ListObjectsV2') ?? 0) >= 2 && (counts.get('ListObjectsV2') ?? 0) <= 8,
        `listings: ${JSON.stringify(Object.fromEntries(counts))}`,
      );
      // Per file: the source's GET and the output's PUT; the sidecars' GETs and the error records'
      // DELETEs only where they exist (12 of 24); a few listings, and a HEAD for a file that
      // finished alone in its window. Without the listings: about 6 per file.
      assert.ok(total < files.length * 3, `requests: ${JSON.stringify(Object.fromEntries(counts))}`);
      assert.equal(counts.get('GetObject'), files.length + 6, 'a GET per source and per existing sidecar');
      assert.equal(counts.get('DeleteObject'), 6, 'a DELETE per existing error record');
      assert.ok((counts.get('HeadObject') ?? 0) <= files.length / 4, `HEADs: ${JSON.stringify(Object.fromEntries(counts))}`);
    } finally {
      reader.destroy();
    }
  });
});
