/**
 * The AWS side of the pipeline benchmark in its own process: the S3+SQS emulator, its
 * notification bridge and the user who uploads the files. On AWS none of them runs in the
 * worker's process; here they would otherwise share its event loop and CPU accounting.
 * Started by pipeline.ts: `node aws-process.js <resources json>`, driven over IPC.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startNotificationBridge } from '../local/notifications.ts';
import type { Resources } from '../local/resources.ts';
import { startEmulator } from '../local/stack.ts';
import { logger } from '../shared/logger.ts';

export type AwsRequest =
  | { readonly cmd: 'drop'; readonly bucket: string; readonly prefix: string; readonly texts: readonly string[] }
  | { readonly cmd: 'exit' };

export type AwsReply =
  | { readonly kind: 'ready'; readonly endpoint: string }
  /** `cpuMs`: this process's CPU time (emulator, notifications, uploads) during the drop. */
  | { readonly kind: 'dropped'; readonly outputs: number; readonly cpuMs: number }
  | { readonly kind: 'failed'; readonly error: string };

const send = (reply: AwsReply) => process.send?.(reply);
const region = 'us-east-1';

async function main(): Promise<void> {
  const resources = JSON.parse(process.argv[2]) as Resources;
  const aws = await startEmulator(resources, 0);
  const clientOptions = {
    endpoint: aws.awsEndpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const s3 = new S3Client({ ...clientOptions, forcePathStyle: true });
  const sqs = new SQSClient(clientOptions);
  const uploads = aws.uploads!;
  startNotificationBridge({ uploads, rules: resources.notifications, queueUrls: aws.queueUrls, s3, sqs, region, logger });
  // Outputs are counted as the emulator stores them, not by listing the bucket.
  const written = new Map<string, number>();
  let waiting: { prefix: string; count: number; resolve: () => void } | undefined;
  uploads.onUpload((_bucket, key) => {
    if (!key.endsWith('.vectors.json')) return;
    const prefix = key.slice(0, key.indexOf('/') + 1);
    written.set(prefix, (written.get(prefix) ?? 0) + 1);
    if (waiting && waiting.prefix === prefix && (written.get(prefix) ?? 0) >= waiting.count) waiting.resolve();
  });
  process.on('message', async (request: AwsRequest) => {
    if (request.cmd === 'exit') {
      s3.destroy();
      sqs.destroy();
      await aws.stop();
      process.exit(0);
    }
    try {
      const cpuStarted = process.cpuUsage();
      const done = new Promise<void>((resolve) => {
        waiting = { prefix: request.prefix, count: request.texts.length, resolve };
      });
      await Promise.all(
        request.texts.map((text, index) =>
          s3.send(new PutObjectCommand({ Bucket: request.bucket, Key: `${request.prefix}file-${index}.txt`, Body: text })),
        ),
      );
      if ((written.get(request.prefix) ?? 0) < request.texts.length) await done;
      const used = process.cpuUsage(cpuStarted);
      send({ kind: 'dropped', outputs: written.get(request.prefix) ?? 0, cpuMs: (used.user + used.system) / 1000 });
    } catch (error) {
      send({ kind: 'failed', error: (error as Error).message });
    }
  });
  send({ kind: 'ready', endpoint: aws.awsEndpoint });
}

main().catch((error: unknown) => {
  send({ kind: 'failed', error: (error as Error).message });
  process.exit(1);
});
