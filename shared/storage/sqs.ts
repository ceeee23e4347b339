import type { SQSClient } from '@aws-sdk/client-sqs';
import type { S3Config } from '../config.ts';
import { DependencyError } from '../errors.ts';

/** SendMessageBatch takes ten entries at most, and (on AWS) 256 KB in all; kept well below. */
const SEND_BATCH = 10;
const SEND_BATCH_BYTES = 192 * 1024;

/** Bodies grouped for SendMessageBatch: at most ten, and SEND_BATCH_BYTES together (a larger body goes alone). */
export function sendGroups(bodies: readonly string[]): string[][] {
  const groups: string[][] = [];
  let group: string[] = [];
  let bytes = 0;
  for (const body of bodies) {
    const size = Buffer.byteLength(body);
    if (group.length > 0 && (group.length >= SEND_BATCH || bytes + size > SEND_BATCH_BYTES)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(body);
    bytes += size;
  }
  if (group.length) groups.push(group);
  return groups;
}

/**
 * The worker's sender of messages to its own queue (parts and continuations of large documents).
 * The SDK loads on first use: most invocations never send.
 */
export interface MessageSender {
  send(bodies: readonly unknown[]): Promise<void>;
  destroy(): void;
}

export function createMessageSender(
  queueUrl: string,
  endpoint: string | undefined,
  aws: Pick<S3Config, 'region' | 'credentials'>,
  instrument: <Client extends SQSClient>(client: Client) => Client = (client) => client,
): MessageSender {
  let client: Promise<{ client: SQSClient; sdk: typeof import('@aws-sdk/client-sqs') }> | undefined;
  const get = () =>
    (client ??= import('@aws-sdk/client-sqs').then((sdk) => ({
      sdk,
      client: instrument(
        new sdk.SQSClient({
          ...(endpoint ? { endpoint } : {}),
          ...(aws.region ? { region: aws.region } : {}),
          ...(aws.credentials ? { credentials: aws.credentials } : {}),
        }),
      ),
    })));
  return {
    /** Sends every body (JSON-serialised), ten per request; throws a transient error if any entry failed. */
    async send(bodies) {
      const { client: sqs, sdk } = await get();
      for (let start = 0; start < bodies.length; start += SEND_BATCH) {
        const entries = bodies
          .slice(start, start + SEND_BATCH)
          .map((body, index) => ({ Id: String(index), MessageBody: JSON.stringify(body) }));
        let failed: { Id?: string; Message?: string }[] | undefined;
        try {
          failed = (await sqs.send(new sdk.SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }))).Failed;
        } catch (cause) {
          throw new DependencyError(`Cannot send to the work queue ${queueUrl}: ${(cause as Error).message}`, { cause });
        }
        if (failed?.length) {
          throw new DependencyError(
            `The work queue ${queueUrl} refused ${failed.length} message(s): ${failed[0].Message ?? 'no reason given'}.`,
          );
        }
      }
    },
    destroy: () => void client?.then(({ client: sqs }) => sqs.destroy()),
  };
}
