/**
 * Large documents on the local stack: split into parts on the work queue, continued when the
 * invocation's time runs out, assembled with the chunks of one whole-document chunking, never
 * duplicated; a newer version abandons the old parts; a file over the hard cap gets an error record.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { LocalStack } from '../../local/stack.ts';
import { errorRecordSchema, vectorsDocumentSchema } from '../../shared/pipeline/outputs.ts';
import { assertWholeDocument, expectedChunks, largeDocuments, words } from '../helpers/large-docs.ts';
import { listKeys, readJson, startTestStack, testResources, waitFor } from '../helpers/stack.ts';
import { tinyModel } from '../helpers/tiny.ts';

describe('large documents: parts, continuation, assembly', () => {
  let model: Awaited<ReturnType<typeof tinyModel>>;
  let stack: LocalStack;
  const resources = testResources();
  const bucket = resources.names.bucket;
  const bodies: Record<string, unknown>[] = [];
  const responses: SQSBatchResponse[] = [];

  before(async () => {
    model = await tinyModel('text');
    stack = await startTestStack(
      // Small parts and batches, so a test-sized document is many parts and many slices.
      {
        MODEL_ID: 'tiny/text',
        MODEL_DIR: model.dir,
        PART_TOKENS: '2000',
        MAX_BATCH_TOKENS: '256',
        CHUNK_OVERLAP_TOKENS: '4',
        MAX_INPUT_BYTES: '3000000',
      },
      resources,
      {
        wrapWorker: (worker) => async (event: SQSEvent, context) => {
          for (const record of event.Records) bodies.push(JSON.parse(record.body));
          const response = await worker(event, context);
          if (response) responses.push(response);
          return response;
        },
      },
    );
  });
  after(async () => {
    await stack?.stop();
    await model?.cleanup();
  });

  const put = (key: string, body: string) => stack.services.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const partsLeft = async () => (await listKeys(stack.services.s3, bucket)).filter((key) => key.includes('.parts/'));
  const waitForOutput = (key: string, timeoutMs = 120_000) =>
    waitFor(
      `${key}.vectors.json`,
      async () => ((await listKeys(stack.services.s3, bucket)).includes(`${key}.vectors.json`) ? true : undefined),
      timeoutMs,
    );

  test('a .txt, a .jsonl and a .json larger than PART_TOKENS are embedded in parts, with the chunks of one whole-document chunking', async () => {
    const documents = largeDocuments(1);
    for (const [name, body] of Object.entries(documents)) await put(`parts/${name}`, body);
    for (const name of Object.keys(documents)) await waitForOutput(`parts/${name}`);
    for (const [name, body] of Object.entries(documents)) {
      await assertWholeDocument(stack.services.s3, bucket, `parts/${name}`, await expectedChunks(stack.services, `parts/${name}`, body));
      const parts = bodies.filter((body) => (body.vectorizer_part as { key?: string } | undefined)?.key === `parts/${name}`);
      assert.ok(parts.length >= 3, `parts/${name} went through the queue in parts (${parts.length})`);
    }
    await waitFor('the parts to be removed', async () => ((await partsLeft()).length === 0 ? true : undefined), 10_000);
    assert.deepEqual(
      responses.flatMap((response) => response.batchItemFailures),
      [],
      'no record failed or was handed back: the large ones did not hold up their batch-mates',
    );
  });

  test('a newer version of the source abandons the parts of the old one', async () => {
    await put('versions/doc.txt', words(40_000, 11));
    await waitFor(
      'a part of the first version',
      async () => ((await partsLeft()).some((key) => key.startsWith('versions/')) ? true : undefined),
      30_000,
    ).catch(
      () => undefined, // the tiny model may finish the whole first version first: the end state must be the same
    );
    const second = words(50, 12);
    await put('versions/doc.txt', second);
    const etag = (await stack.services.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'versions/doc.txt' }))).ETag?.replaceAll(
      '"',
      '',
    );
    await waitFor(
      'the output of the second version',
      async () => {
        const keys = await listKeys(stack.services.s3, bucket);
        if (!keys.includes('versions/doc.txt.vectors.json')) return undefined;
        const document = await readJson(stack.services.s3, bucket, 'versions/doc.txt.vectors.json', vectorsDocumentSchema);
        return document.source.etag === etag ? document : undefined;
      },
      60_000,
    );
    // Old parts still queued are dropped when they come; wait for the queue to drain, then check.
    await waitFor('the old parts to be dropped', async () => ((await partsLeft()).length === 0 ? true : undefined), 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.deepEqual(await partsLeft(), []);
    await assertWholeDocument(
      stack.services.s3,
      bucket,
      'versions/doc.txt',
      await expectedChunks(stack.services, 'versions/doc.txt', second),
    );
  });

  test('a file over MAX_INPUT_BYTES gets an error record naming its size, the cap and how to raise it', async () => {
    const body = 'x '.repeat(1_600_000);
    await put('cap/huge.txt', body);
    const record = await waitFor('the error record', async () =>
      (await listKeys(stack.services.s3, bucket)).includes('cap/huge.txt.error.json')
        ? readJson(stack.services.s3, bucket, 'cap/huge.txt.error.json', errorRecordSchema)
        : undefined,
    );
    assert.equal(record.error.code, 'PAYLOAD_TOO_LARGE');
    assert.match(record.error.message, /is 3200000 bytes; the limit is 3000000 bytes \(MAX_INPUT_BYTES: raise it/);
  });
});

describe('large documents: the worker keeps to its time budget', () => {
  let model: Awaited<ReturnType<typeof tinyModel>>;
  let stack: LocalStack;
  // A 3 s function timeout (the event source's, as Lambda's context gives it). Chunks of 128
  // tokens keep the assembly (which the deadline does not divide) small beside the embedding.
  const resources = testResources({ timeoutSeconds: 3 });
  const bucket = resources.names.bucket;
  const parts: { from: number; to: number }[] = [];
  /** Invocations middy stopped at the timeout (Lambda would have killed them). */
  const timedOut: string[] = [];

  before(async () => {
    // A wider model than the default (hidden 8): its runs, not the chunking, outlast an invocation.
    model = await tinyModel('text', { maxTokens: 128, hidden: 48 });
    stack = await startTestStack(
      // No fan-out (PART_TOKENS above the document): the text is embedded in one go as far as time allows.
      {
        MODEL_ID: 'tiny/text',
        MODEL_DIR: model.dir,
        PART_TOKENS: '100000000',
        MAX_BATCH_TOKENS: '256',
        CHUNK_OVERLAP_TOKENS: '4',
        MAX_INPUT_BYTES: '8000000',
      },
      resources,
      {
        wrapWorker: (worker) => async (event, context) => {
          for (const record of event.Records) {
            const part = JSON.parse(record.body).vectorizer_part;
            if (part) parts.push({ from: part.from, to: part.to });
          }
          try {
            return await worker(event, context);
          } catch (error) {
            timedOut.push((error as Error).name);
            throw error;
          }
        },
      },
    );
  });
  after(async () => {
    await stack?.stop();
    await model?.cleanup();
  });

  test('a text longer than one invocation continues from the queue where it stopped, and ends whole', async () => {
    // About 1.8 MB: chunking it takes under a second here, embedding it a few.
    const body = words(450_000, 5);
    await stack.services.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'deadline/long.txt', Body: body }));
    await waitFor(
      'the output',
      async () => ((await listKeys(stack.services.s3, bucket)).includes('deadline/long.txt.vectors.json') ? true : undefined),
      180_000,
    );
    await assertWholeDocument(
      stack.services.s3,
      bucket,
      'deadline/long.txt',
      await expectedChunks(stack.services, 'deadline/long.txt', body),
    );
    assert.ok(parts.length >= 1, `the text was continued from the queue (${parts.length} part messages)`);
    assert.ok(
      parts.some((part) => part.from > 0 && !parts.some((other) => other.to === part.from)),
      'a part starts where an interrupted invocation stopped (not at a planned boundary)',
    );
    assert.deepEqual(timedOut, [], 'no invocation ran into the function timeout');
    assert.deepEqual(
      (await listKeys(stack.services.s3, bucket)).filter((key) => key.includes('.parts/')),
      [],
    );
  });
});
