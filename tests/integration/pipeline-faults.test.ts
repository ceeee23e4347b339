/** The event pipeline under faults: poison files, transient and persistent S3 errors, crashes. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { LocalStack } from '../../local/stack.ts';
import { errorRecordSchema } from '../../shared/pipeline/outputs.ts';
import { listKeys, readJson, startTestStack, testResources, waitFor } from '../helpers/stack.ts';
import { tinyModel } from '../helpers/tiny.ts';

/** Fails GetObject for keys the test names: `times` failures each (Infinity = always). */
function faultInjector() {
  const failures = new Map<string, number>();
  const attempts = new Map<string, number>();
  return {
    failures,
    attempts,
    install(client: S3Client) {
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const key = (args.input as { Key?: string }).Key ?? '';
          if (context.commandName === 'GetObjectCommand' && failures.has(key)) {
            attempts.set(key, (attempts.get(key) ?? 0) + 1);
            const left = failures.get(key) ?? 0;
            if (left > 0) {
              failures.set(key, left - 1);
              throw Object.assign(new Error('We encountered an internal error. Please try again.'), {
                name: 'InternalError',
                $metadata: { httpStatusCode: 500 },
              });
            }
          }
          return next(args);
        },
        { step: 'initialize', name: 'injectFaults' },
      );
    },
  };
}

describe('pipeline: nothing lost under faults', () => {
  let stack: LocalStack;
  let model: Awaited<ReturnType<typeof tinyModel>>;
  let sqs: SQSClient;
  const resources = testResources({ visibilityTimeoutSeconds: 3, maxReceiveCount: 3, batchSize: 10 });
  const bucket = resources.names.bucket;
  const faults = faultInjector();
  const responses: { keys: string[]; response?: SQSBatchResponse; crashed?: boolean }[] = [];
  let crashNext = false;

  const keysOf = (event: SQSEvent) =>
    event.Records.map((record) => (record.body.includes('"s3"') ? JSON.parse(record.body).Records[0].s3.object.key : 'job'));

  before(async () => {
    model = await tinyModel('text');
    stack = await startTestStack({ MODEL_ID: 'tiny/text', MODEL_DIR: model.dir }, resources, {
      configureS3: (client) => faults.install(client),
      wrapWorker: (worker) => async (event, context) => {
        if (crashNext && keysOf(event).some((key) => key.startsWith('crash/'))) {
          crashNext = false;
          // Crash mid-batch: half the records are processed, then the process dies.
          await worker({ Records: event.Records.slice(0, Math.ceil(event.Records.length / 2)) }, context);
          responses.push({ keys: keysOf(event), crashed: true });
          throw new Error('worker crashed');
        }
        const response = await worker(event, context);
        responses.push({ keys: keysOf(event), response });
        return response;
      },
    });
    sqs = new SQSClient({ endpoint: stack.awsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  });
  after(async () => {
    sqs?.destroy();
    await stack?.stop();
    await model?.cleanup();
  });

  const put = (key: string, body: string | Uint8Array) =>
    stack.services.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const keys = () => listKeys(stack.services.s3, bucket);

  test('a poison file next to good ones: the good ones succeed, it gets an error record and is not retried', async () => {
    await Promise.all([
      put('mix/good-1.txt', 'a cat sits on the mat'),
      put('mix/bad.json', '{"this is": not json'),
      put('mix/latin1.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9])),
      put('mix/empty.md', '   \n'),
      put('mix/good-2.jsonl', '"the fox"\n{"text": "the dog"}'),
    ]);
    await waitFor('all five handled', async () => {
      const present = await keys();
      const done = [
        'mix/good-1.txt.vectors.json',
        'mix/good-2.jsonl.vectors.json',
        'mix/bad.json.error.json',
        'mix/latin1.txt.error.json',
        'mix/empty.md.error.json',
      ];
      return done.every((key) => present.includes(key)) ? true : undefined;
    });
    const codes = await Promise.all(
      ['mix/bad.json', 'mix/latin1.txt', 'mix/empty.md'].map((key) =>
        readJson(stack.services.s3, bucket, `${key}.error.json`, errorRecordSchema),
      ),
    );
    assert.deepEqual(
      codes.map((record) => record.error.code),
      ['INVALID_INPUT_DATA', 'INVALID_INPUT_DATA', 'EMPTY_DOCUMENT'],
    );
    assert.match(codes[1].error.message, /not valid UTF-8/);
    assert.equal(codes[0].retryable, false);
    assert.equal(codes[0].source.key, 'mix/bad.json');
    // Permanent failures are done: no batch reported them, and they were not delivered again.
    const mixBatches = responses.filter((entry) => entry.keys.some((key) => key.startsWith('mix/')));
    assert.ok(mixBatches.every((entry) => (entry.response?.batchItemFailures ?? []).length === 0));
    await new Promise((resolve) => setTimeout(resolve, 4000)); // past the visibility timeout
    const deliveries = responses.flatMap((entry) => entry.keys).filter((key) => key === 'mix/bad.json').length;
    assert.equal(deliveries, 1);
    assert.ok(!(await keys()).includes('mix/bad.json.vectors.json'));
  });

  test('a transient S3 fault is retried and then succeeds; the batch reports only that record', async () => {
    faults.failures.set('flaky/a.txt', 1);
    await Promise.all([put('flaky/a.txt', 'the quick brown fox'), put('flaky/b.txt', 'a lazy dog')]);
    await waitFor('both outputs', async () => {
      const present = await keys();
      return present.includes('flaky/a.txt.vectors.json') && present.includes('flaky/b.txt.vectors.json') ? true : undefined;
    });
    assert.equal(faults.attempts.get('flaky/a.txt'), 2);
    const reported = responses.flatMap((entry) => entry.response?.batchItemFailures ?? []);
    assert.equal(reported.length, 1, 'exactly one record was reported failed');
    assert.ok(!(await keys()).includes('flaky/a.txt.error.json'));
  });

  test('a persistent S3 fault ends in the dead-letter queue after maxReceiveCount', async () => {
    faults.failures.set('down/c.txt', Number.POSITIVE_INFINITY);
    await put('down/c.txt', 'paris is the capital of france');
    const dlqUrl = stack.queueUrls[resources.names.dlq];
    const dead = await waitFor('the DLQ message', async () => {
      const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      return received.Messages?.find((message) => message.Body?.includes('down/c.txt'));
    });
    assert.ok(dead);
    assert.equal(faults.attempts.get('down/c.txt'), 3);
    const present = await keys();
    assert.ok(
      !present.includes('down/c.txt.vectors.json') && !present.includes('down/c.txt.error.json'),
      'a transient fault never becomes an error record',
    );
  });

  test('a worker crash mid-batch: everything is redelivered and ends with one output per file', async () => {
    crashNext = true;
    const files = Array.from({ length: 8 }, (_, i) => `crash/file-${i}.txt`);
    await Promise.all(files.map((key, i) => put(key, `the cat number ${i} sits on the mat`)));
    await waitFor('all crash outputs', async () => {
      const present = await keys();
      return files.every((key) => present.includes(`${key}.vectors.json`)) ? true : undefined;
    });
    assert.ok(
      responses.some((entry) => entry.crashed),
      'the crash happened',
    );
    const present = (await keys()).filter((key) => key.startsWith('crash/'));
    assert.equal(present.filter((key) => key.endsWith('.vectors.json')).length, files.length);
    assert.equal(present.filter((key) => key.endsWith('.error.json')).length, 0);
  });
});
