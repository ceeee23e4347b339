/**
 * X-Ray tracing, end to end on the wire: a process set up as Lambda sets one up (a trace header,
 * the X-Ray daemon's address) runs the invoke handler with `POWERTOOLS_TRACE_ENABLED=true`; the
 * test plays the daemon (UDP on port 0) and reads the segments the X-Ray SDK sends.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { type Emulator, startEmulator } from '../helpers/emulator.ts';
import { REPO_DIR } from '../helpers/shared-dir.ts';
import { tinyModel } from '../helpers/tiny.ts';

const TRACE_ROOT = '1-5759e988-bd862e3fe1be46a994272793';

interface Segment {
  name: string;
  trace_id?: string;
  type?: string;
  aws?: { operation?: string };
  subsegments?: Segment[];
}

/** Every segment and subsegment of a document, nested ones included. */
function flatten(segment: Segment): Segment[] {
  return [segment, ...(segment.subsegments ?? []).flatMap(flatten)];
}

describe('tracing (X-Ray)', () => {
  let emulator: Emulator;
  let bucket: string;
  let model: Awaited<ReturnType<typeof tinyModel>>;
  let daemon: Socket;
  const received: Segment[] = [];

  before(async () => {
    emulator = await startEmulator();
    bucket = await emulator.bucket('traced');
    await emulator.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'in/a.txt', Body: 'a cat sits on the mat' }));
    model = await tinyModel('text');
    daemon = createSocket('udp4');
    daemon.on('message', (message) => {
      // A datagram is a JSON header line, then the segment document.
      const [, body] = message.toString('utf8').split('\n', 2);
      if (body) received.push(JSON.parse(body));
    });
    await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  });
  after(async () => {
    daemon?.close();
    await emulator?.stop();
    await model?.cleanup();
  });

  /** Runs one invoke in a child process that looks like a Lambda instance; returns its response. */
  async function invokeInLambdaLikeProcess(request: unknown, tracing: boolean): Promise<{ count: number }> {
    const child = spawn(process.execPath, [join(REPO_DIR, 'tests', 'fixtures', 'traced-invoke.ts'), JSON.stringify(request)], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        MODEL_ID: 'tiny/text',
        MODEL_DIR: model.dir,
        AWS_ENDPOINT_URL: emulator.endpoint,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_REGION: 'us-east-1',
        AWS_LAMBDA_FUNCTION_NAME: 'invoke',
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
        LAMBDA_TASK_ROOT: REPO_DIR,
        _HANDLER: 'functions/invoke.handler',
        _X_AMZN_TRACE_ID: `Root=${TRACE_ROOT};Parent=53995c3f42cd8ad8;Sampled=1`,
        AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
        AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
        POWERTOOLS_TRACE_ENABLED: String(tracing),
        POWERTOOLS_METRICS_DISABLED: 'true',
        MODEL_CACHE_DIR: join(model.dir, 'cache'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, stderr);
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
  }

  test('POWERTOOLS_TRACE_ENABLED=true: the handler and its S3 calls are subsegments of the invocation trace', async () => {
    received.length = 0;
    const response = await invokeInLambdaLikeProcess({ s3_file: `${bucket}/in/a.txt` }, true);
    assert.equal(response.count, 1);
    // Let the last datagrams land.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const all = received.flatMap(flatten);
    assert.ok(received.length > 0, 'the X-Ray SDK sent segments to the daemon');
    assert.ok(
      received.every((segment) => segment.trace_id === TRACE_ROOT),
      'in the trace Lambda gave',
    );
    assert.ok(
      all.some((segment) => segment.name === '## functions/invoke.handler'),
      `the handler's subsegment (got ${all.map((segment) => segment.name).join(', ')})`,
    );
    const s3 = all.find((segment) => segment.name === 'S3');
    assert.equal(s3?.aws?.operation, 'GetObject');
  });

  test('off by default: nothing is sent', async () => {
    received.length = 0;
    const response = await invokeInLambdaLikeProcess({ s3_file: `${bucket}/in/a.txt` }, false);
    assert.equal(response.count, 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(received, []);
  });
});
