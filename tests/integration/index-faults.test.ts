/**
 * Index sink faults are transient: the record is reported in batchItemFailures, retried, and the
 * index ends as if nothing had failed (never half a document), on the local stack with LanceDB.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { LocalStack } from '../../local/stack.ts';
import { DependencyError } from '../../shared/errors.ts';
import type { IndexSink } from '../../shared/index/types.ts';
import { TINY_VOCAB } from '../fixtures/tiny-models.ts';
import { assertAgreement, drained, type IndexedStack, lanceRows, startIndexedStack } from '../helpers/index-check.ts';
import { listKeys, testResources, waitFor } from '../helpers/stack.ts';

const WORDS = TINY_VOCAB.filter((token) => /^[a-z]+$/.test(token));
const sentence = (seed: number, length: number) => Array.from({ length }, (_, i) => WORDS[(seed * 11 + i * 3) % WORDS.length]).join(' ');

/** Fails the first write and the first delete of every source, then lets them through. */
function flakySink(sink: IndexSink, failures: string[]): IndexSink {
  const seen = new Set<string>();
  const failOnce = (what: string) => {
    if (seen.has(what)) return;
    seen.add(what);
    failures.push(what);
    throw new DependencyError(`injected index fault: ${what}`);
  };
  return {
    ...sink,
    name: sink.name,
    async replaceSource(document) {
      failOnce(`replace ${document.source.key} ${document.source.etag}`);
      return sink.replaceSource(document);
    },
    async deleteSource(source) {
      failOnce(`delete ${source.key}`);
      return sink.deleteSource(source);
    },
    sourceEtag: (source) => sink.sourceEtag(source),
    search: (vector, options) => sink.search(vector, options),
    close: () => sink.close(),
  };
}

describe('index faults: retried until the index matches the bucket', () => {
  let indexed: IndexedStack;
  let stack: LocalStack;
  let indexDir: string;
  let sqs: SQSClient;
  const failures: string[] = [];
  const resources = testResources({ batchSize: 5, visibilityTimeoutSeconds: 1, maxReceiveCount: 5 });
  const bucket = resources.names.bucket;

  before(async () => {
    indexed = await startIndexedStack(resources, {}, { wrapIndex: (sink) => flakySink(sink, failures) });
    ({ stack, indexDir, sqs } = indexed);
  });
  after(async () => {
    await indexed?.stop();
  });

  test('writes, overwrites and deletes that fail once end in the same state as clean ones', async () => {
    const s3 = stack.services.s3;
    const put = (key: string, body: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    for (let i = 0; i < 12; i++) await put(`f/doc-${i}.txt`, sentence(i, i % 3 === 0 ? 30 : 5));
    await waitFor('every file embedded', async () => {
      const keys = new Set(await listKeys(s3, bucket));
      return Array.from({ length: 12 }, (_, i) => `f/doc-${i}.txt.vectors.json`).every((key) => keys.has(key)) ? true : undefined;
    });
    await drained(sqs, stack.queueUrls[resources.names.queue]);
    for (let i = 0; i < 4; i++) await put(`f/doc-${i}.txt`, sentence(i + 50, 4));
    for (let i = 4; i < 8; i++) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `f/doc-${i}.txt` }));
    await waitFor('deletes reached the sidecars', async () => {
      const keys = new Set(await listKeys(s3, bucket));
      return Array.from({ length: 4 }, (_, i) => `f/doc-${i + 4}.txt.vectors.json`).every((key) => !keys.has(key)) ? true : undefined;
    });
    await drained(sqs, stack.queueUrls[resources.names.queue]);
    assert.ok(failures.filter((what) => what.startsWith('replace')).length >= 16, 'every write failed once');
    assert.ok(failures.filter((what) => what.startsWith('delete')).length >= 4, 'every delete failed once');
    const documents = await assertAgreement(stack, bucket, await lanceRows(indexDir, 'tiny/text'));
    assert.equal(documents.size, 8);
  });
});

/** Holds the first index write of `key` until `release` is called: an older version still embedding. */
function slowSink(sink: IndexSink, key: string, held: { release?: () => void; waiting?: Promise<void> }): IndexSink {
  let first = true;
  return {
    ...sink,
    async replaceSource(document) {
      if (document.source.key === key && first) {
        first = false;
        held.waiting = new Promise<void>((resolve) => {
          held.release = resolve;
        });
        await held.waiting;
      }
      return sink.replaceSource(document);
    },
  };
}

describe('index race: an older version that finishes last does not win', () => {
  let indexed: IndexedStack;
  const held: { release?: () => void; waiting?: Promise<void> } = {};
  const resources = testResources({ batchSize: 1 });
  const bucket = resources.names.bucket;

  before(async () => {
    indexed = await startIndexedStack(resources, {}, { wrapIndex: (sink) => slowSink(sink, 'race/doc.txt', held) });
  });
  after(async () => {
    held.release?.();
    await indexed?.stop();
  });

  test('overwritten while the older version was embedding: the index and the sidecar end at the newer version', async () => {
    const { stack, sqs, indexDir } = indexed;
    const s3 = stack.services.s3;
    const put = (body: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'race/doc.txt', Body: body }));
    await put(sentence(1, 40));
    await waitFor('the older version to reach the index write', async () => (held.release ? true : undefined));
    await put(sentence(2, 5));
    // The newer version is embedded while the older one waits.
    await waitFor('the newer version embedded', async () => {
      const rows = await lanceRows(indexDir, 'tiny/text').catch(() => []);
      return rows.length > 0 ? true : undefined;
    });
    held.release?.();
    await drained(sqs, stack.queueUrls[resources.names.queue]);
    const documents = await assertAgreement(stack, bucket, await lanceRows(indexDir, 'tiny/text'));
    assert.equal(documents.get('race/doc.txt')?.count, 1, 'the short, newer version');
  });
});

/** Holds the first index delete of `key` (the refused version's cleanup) until released. */
function slowDelete(sink: IndexSink, key: string, held: { release?: () => void }): IndexSink {
  let first = true;
  return {
    ...sink,
    async deleteSource(source) {
      if (source.key === key && first) {
        first = false;
        await new Promise<void>((resolve) => {
          held.release = resolve;
        });
      }
      return sink.deleteSource(source);
    },
  };
}

describe('index race: a refused older version that finishes last does not remove the newer, good one', () => {
  let indexed: IndexedStack;
  const held: { release?: () => void } = {};
  const resources = testResources({ batchSize: 1 });
  const bucket = resources.names.bucket;
  const key = 'race/items.json';

  before(async () => {
    indexed = await startIndexedStack(resources, {}, { wrapIndex: (sink) => slowDelete(sink, key, held) });
  });
  after(async () => {
    held.release?.();
    await indexed?.stop();
  });

  test('the newer version is embedded again, and no error record is left', async () => {
    const { stack, sqs, indexDir } = indexed;
    const s3 = stack.services.s3;
    const put = (body: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    await put('{"not": "an array"');
    await waitFor('the refused version to reach its index cleanup', async () => (held.release ? true : undefined));
    await put(JSON.stringify([sentence(3, 5), sentence(4, 6)]));
    await waitFor('the newer version embedded', async () => {
      const rows = await lanceRows(indexDir, 'tiny/text').catch(() => []);
      return rows.length > 0 ? true : undefined;
    });
    held.release?.();
    await drained(sqs, stack.queueUrls[resources.names.queue]);
    const keys = await listKeys(s3, bucket);
    assert.ok(!keys.includes(`${key}.error.json`), `no error record: ${keys.join(', ')}`);
    const documents = await assertAgreement(stack, bucket, await lanceRows(indexDir, 'tiny/text'));
    assert.equal(documents.get(key)?.count, 2, 'the newer version, in the index and its sidecar');
  });
});
