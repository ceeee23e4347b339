/** `vectorizer start --external-aws URL`: the worker against an S3+SQS service someone else runs. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { s3EventNotification } from '../../local/notifications.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { EMULATOR_ENV, type Emulator, startEmulator } from '../helpers/emulator.ts';
import { listKeys, testResources, waitFor } from '../helpers/stack.ts';
import { tinyModel } from '../helpers/tiny.ts';

describe('local stack against an external S3+SQS (as with LocalStack)', () => {
  let external: Emulator;
  let stack: LocalStack;
  let model: Awaited<ReturnType<typeof tinyModel>>;
  const resources = testResources();

  before(async () => {
    external = await startEmulator();
    external.server.createBucket(resources.names.bucket);
    const dlq = external.server.createQueue(resources.names.dlq);
    external.server.createQueue(resources.names.queue, {
      attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: '3' }) },
    });
    model = await tinyModel('text');
    stack = await startLocalStack({
      env: { ...EMULATOR_ENV, POWERTOOLS_LOG_LEVEL: 'ERROR', MODEL_ID: 'tiny/text', MODEL_DIR: model.dir, INDEX_SINK: 'none' },
      resources,
      awsPort: 0,
      invokePort: 0,
      pollWaitSeconds: 1,
      externalEndpoint: external.endpoint,
    });
  });
  after(async () => {
    await stack?.stop();
    await external?.stop();
    await model?.cleanup();
  });

  test('consumes notifications the service sends, and writes outputs there', async () => {
    assert.equal(stack.awsEndpoint, external.endpoint);
    await external.s3.send(new PutObjectCommand({ Bucket: resources.names.bucket, Key: 'a b/c.txt', Body: 'a cat sits on the mat' }));
    // The external service's own notification (LocalStack sends one; here the test does).
    const body = s3EventNotification({
      bucket: resources.names.bucket,
      key: 'a b/c.txt',
      size: 21,
      region: 'us-east-1',
      configurationId: 'x',
      now: new Date(),
    });
    assert.equal(body.Records[0].s3.object.key, 'a+b/c.txt');
    await external.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.queueUrls[resources.names.queue], MessageBody: JSON.stringify(body) }),
    );
    await waitFor('the output', async () =>
      (await listKeys(external.s3, resources.names.bucket)).includes('a b/c.txt.vectors.json') ? true : undefined,
    );
  });
});
