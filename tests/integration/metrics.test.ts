/**
 * The worker's and the invoke handler's CloudWatch metrics: EMF lines with the expected names,
 * units, dimensions and values, from real invocations against the emulator.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { createInvokeHandler } from '../../shared/invoke-handler.ts';
import type { Services } from '../../shared/services.ts';
import { createWorkerHandler } from '../../shared/worker-handler.ts';
import { type Emulator, startEmulator } from '../helpers/emulator.ts';
import { servicesFor } from '../helpers/services.ts';
import { tinyModel } from '../helpers/tiny.ts';

const NAMESPACE = 'Test/Vectorizer';

interface Emf {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [field: string]: unknown;
}

/** A stream that keeps the EMF documents written to it. */
function emfCapture(): { stream: Writable; documents: Emf[] } {
  const documents: Emf[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) documents.push(JSON.parse(line));
      done();
    },
  });
  return { stream, documents };
}

/** The sum of a metric over the documents (a metric added several times holds a list). */
function total(documents: Emf[], name: string, where: Record<string, string> = {}): number {
  let sum = 0;
  for (const document of documents) {
    if (!Object.entries(where).every(([key, value]) => document[key] === value)) continue;
    const value = document[name];
    if (typeof value === 'number') sum += value;
    else if (Array.isArray(value)) sum += value.reduce((a: number, b: number) => a + b, 0);
  }
  return sum;
}

function valuesOf(documents: Emf[], name: string): number[] {
  return documents.flatMap((document) => {
    const value = document[name];
    return typeof value === 'number' ? [value] : Array.isArray(value) ? (value as number[]) : [];
  });
}

function notification(bucket: string, key: string, attributes: Partial<SQSRecord['attributes']> = {}): SQSRecord {
  return {
    messageId: crypto.randomUUID(),
    receiptHandle: 'handle',
    body: JSON.stringify({
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Put',
          eventTime: new Date().toISOString(),
          s3: { bucket: { name: bucket }, object: { key, size: 1 } },
        },
      ],
    }),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now() - 1500),
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      ...attributes,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:jobs',
    awsRegion: 'us-east-1',
  };
}

/** Fails every GetObject of `key` with a 500 (a transient fault: the record is retried). */
function failGets(client: S3Client, key: string): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetObjectCommand' && (args.input as { Key?: string }).Key === key) {
        throw Object.assign(new Error('We encountered an internal error. Please try again.'), {
          name: 'InternalError',
          $metadata: { httpStatusCode: 500 },
        });
      }
      return next(args);
    },
    { step: 'initialize', name: 'failGets' },
  );
}

const context = { functionName: 'vectorizer-test', awsRequestId: 'request', getRemainingTimeInMillis: () => 60_000 } as never;

describe('metrics (EMF)', () => {
  let emulator: Emulator;
  let bucket: string;
  let model: Awaited<ReturnType<typeof tinyModel>>;
  let services: Services;

  before(async () => {
    emulator = await startEmulator();
    bucket = await emulator.bucket('metrics');
    failGets(emulator.s3, 'down/c.txt');
    model = await tinyModel('text');
    services = await servicesFor(
      {
        MODEL_ID: 'tiny/text',
        MODEL_DIR: model.dir,
        POWERTOOLS_METRICS_DISABLED: 'false',
        POWERTOOLS_METRICS_NAMESPACE: NAMESPACE,
        MAX_RECEIVE_COUNT: '3',
      },
      { s3: emulator.s3 },
    );
  });
  after(async () => {
    await services?.dispose();
    await emulator?.stop();
    await model?.cleanup();
  });

  test('the worker: documents, errors by code, chunks, tokens, retries, DLQ moves, run times, latency, batch size, cold start', async () => {
    const put = (key: string, body: string) => emulator.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    await Promise.all([put('m/a.txt', 'the quick brown fox'), put('m/b.txt', 'a cat sat on the mat'), put('m/bad.json', '{not json')]);
    const capture = emfCapture();
    const worker = await createWorkerHandler(services, { metricsOutput: capture.stream });
    const event: SQSEvent = {
      Records: [
        notification(bucket, 'm/a.txt'),
        notification(bucket, 'm/b.txt'),
        notification(bucket, 'm/bad.json'),
        // Failing on its third receive, with MAX_RECEIVE_COUNT 3: it goes to the DLQ.
        notification(bucket, 'down/c.txt', { ApproximateReceiveCount: '3' }),
        notification(bucket, 'down/c.txt', { ApproximateReceiveCount: '1' }),
      ],
    };
    const response = await worker(event, context);
    assert.equal(response.batchItemFailures.length, 2);

    const { documents } = capture;
    assert.ok(documents.length >= 2, 'the invocation metrics and one ErrorsByCode');
    for (const document of documents) {
      const [directive] = document._aws.CloudWatchMetrics;
      assert.equal(directive.Namespace, NAMESPACE);
      assert.equal(document.service, 'serverless-vectorizer');
      assert.equal(document.function, 'worker');
      assert.equal(document.model, 'tiny/text');
      assert.equal(document.kind, 'text');
      const dimensions = [...directive.Dimensions[0]].sort();
      const isByCode = directive.Metrics.some((metric) => metric.Name === 'ErrorsByCode');
      assert.deepEqual(dimensions, isByCode ? ['code', 'function', 'kind', 'model', 'service'] : ['function', 'kind', 'model', 'service']);
    }
    const units = Object.fromEntries(
      documents.flatMap((document) => document._aws.CloudWatchMetrics[0].Metrics.map((m) => [m.Name, m.Unit])),
    );
    assert.equal(units.ModelRunTime, 'Milliseconds');
    assert.equal(units.QueueToVectorLatency, 'Milliseconds');
    assert.equal(units.DocumentsEmbedded, 'Count');

    assert.equal(total(documents, 'DocumentsEmbedded'), 2);
    assert.equal(total(documents, 'DocumentErrors'), 1);
    assert.equal(total(documents, 'ErrorsByCode', { code: 'INVALID_INPUT_DATA' }), 1);
    assert.equal(total(documents, 'ChunksEmbedded'), 2);
    assert.ok(total(documents, 'TokensEmbedded') >= 8);
    assert.equal(total(documents, 'BatchSize'), 5);
    assert.equal(total(documents, 'Retries'), 1);
    assert.equal(total(documents, 'DlqMoves'), 1);
    assert.equal(total(documents, 'ColdStart'), 1);
    const runs = valuesOf(documents, 'ModelRunTime');
    assert.ok(runs.length >= 1 && runs.every((ms) => ms > 0));
    const latencies = valuesOf(documents, 'QueueToVectorLatency');
    assert.equal(latencies.length, 2);
    assert.ok(latencies.every((ms) => ms >= 1500));

    // A second invocation of the same instance is warm.
    capture.documents.length = 0;
    await worker({ Records: [notification(bucket, 'm/a.txt')] }, context);
    assert.equal(total(capture.documents, 'ColdStart'), 0);
    assert.equal(total(capture.documents, 'BatchSize'), 1);
  });

  test('the invoke handler: requests, tokens, errors by code, with function=invoke', async () => {
    const capture = emfCapture();
    const invoke = await createInvokeHandler(services, { metricsOutput: capture.stream });
    const answer = (await invoke({ messages: ['a cat', 'the quick brown fox'] }, context)) as { usage: { tokens: number } };
    await assert.rejects(invoke({ messages: [], extra: 1 }, context));
    const { documents } = capture;
    assert.ok(documents.every((document) => document.function === 'invoke' && document.model === 'tiny/text'));
    assert.equal(total(documents, 'Requests'), 2);
    assert.equal(total(documents, 'RequestErrors'), 1);
    assert.equal(total(documents, 'TokensEmbedded'), answer.usage.tokens);
    assert.equal(total(documents, 'ErrorsByCode', { code: 'INVALID_REQUEST' }), 1);
    assert.equal(total(documents, 'ColdStart'), 1);
    assert.ok(valuesOf(documents, 'ModelRunTime').length >= 1);
  });

  test('off outside Lambda unless asked: nothing is written', async () => {
    const quiet = await servicesFor({ MODEL_ID: 'tiny/text', MODEL_DIR: model.dir }, { s3: emulator.s3 });
    try {
      const capture = emfCapture();
      const invoke = await createInvokeHandler(quiet, { metricsOutput: capture.stream });
      await invoke({ messages: ['a cat'] }, context);
      assert.equal(capture.documents.length, 0);
      assert.equal(quiet.config.metrics.enabled, false);
    } finally {
      await quiet.dispose();
    }
  });
});
