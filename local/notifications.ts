import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { headObject } from '../shared/storage/s3.ts';
import { matchesRule, type NotificationRule } from './resources.ts';

/**
 * S3 encodes event keys as form data: spaces as `+`, other reserved characters percent-encoded,
 * `/` kept.
 * @example encodeS3EventKey('my folder/a+b.txt') // 'my+folder/a%2Bb.txt'
 */
export function encodeS3EventKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
}

/** A real S3 event notification body (ObjectCreated:Put, or ObjectRemoved:Delete), as S3 sends it to SQS. */
export function s3EventNotification(input: {
  bucket: string;
  key: string;
  size: number;
  etag?: string;
  region: string;
  configurationId: string;
  now: Date;
  /** Default `ObjectCreated:Put`. */
  eventName?: 'ObjectCreated:Put' | 'ObjectRemoved:Delete';
}) {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: input.region,
        eventTime: input.now.toISOString(),
        eventName: input.eventName ?? 'ObjectCreated:Put',
        userIdentity: { principalId: 'local' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': randomUUID(), 'x-amz-id-2': randomUUID() },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: input.configurationId,
          bucket: { name: input.bucket, ownerIdentity: { principalId: 'local' }, arn: `arn:aws:s3:::${input.bucket}` },
          object: {
            key: encodeS3EventKey(input.key),
            size: input.size,
            ...(input.etag ? { eTag: input.etag.replaceAll('"', '') } : {}),
            sequencer: input.now.getTime().toString(16).toUpperCase().padStart(16, '0'),
          },
        },
      },
    ],
  };
}

export interface UploadSource {
  /** Calls `listener` for every object put into (`uploaded`) or deleted from (`deleted`) the emulator, in order. */
  onUpload(listener: (bucket: string, key: string, change: 'uploaded' | 'deleted') => void): void;
  /** Puts a message on a queue from inside the emulator, as S3 delivers notifications (no client call). */
  deliver?(queueName: string, body: string): void;
}

/**
 * The local stand-in for S3 event notifications (fauxqs has none): every upload or delete that
 * passes a rule's prefix/suffix filter becomes a real event-notification message on the rule's
 * queue (ObjectCreated:Put or ObjectRemoved:Delete, as the deployment configures both).
 */
export function startNotificationBridge(options: {
  uploads: UploadSource;
  rules: readonly NotificationRule[];
  queueUrls: Readonly<Record<string, string>>;
  s3: S3Client;
  sqs: SQSClient;
  region: string;
  logger: Logger;
}): { sent(): number } {
  let sent = 0;
  options.uploads.onUpload((bucket, key, change) => {
    const rules = options.rules.filter((rule) => matchesRule(rule, bucket, key));
    for (const rule of rules) {
      void (async () => {
        const created = change === 'uploaded';
        const head = created ? await headObject(options.s3, { bucket, key }) : undefined;
        if (created && !head) return; // deleted again before the notification went out
        const body = s3EventNotification({
          bucket,
          key,
          size: head?.size ?? 0,
          etag: head?.etag,
          region: options.region,
          configurationId: `vectorizer-${rule.queue}`,
          now: new Date(),
          eventName: created ? 'ObjectCreated:Put' : 'ObjectRemoved:Delete',
        });
        if (options.uploads.deliver) options.uploads.deliver(rule.queue, JSON.stringify(body));
        else await options.sqs.send(new SendMessageCommand({ QueueUrl: options.queueUrls[rule.queue], MessageBody: JSON.stringify(body) }));
        sent++;
      })().catch((error: unknown) => options.logger.error('notification not sent', { bucket, key, error: error as Error }));
    }
  });
  return { sent: () => sent };
}
