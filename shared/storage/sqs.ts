import type { SQSClient } from '@aws-sdk/client-sqs';
import type { S3Config } from '../config.ts';
import { DependencyError } from '../errors.ts';

/** SendMessageBatch takes ten entries at most. */
const SEND_BATCH = 10;

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
): MessageSender {
  let client: Promise<{ client: SQSClient; sdk: typeof import('@aws-sdk/client-sqs') }> | undefined;
  const get = () =>
    (client ??= import('@aws-sdk/client-sqs').then((sdk) => ({
      sdk,
      client: new sdk.SQSClient({
        ...(endpoint ? { endpoint } : {}),
        ...(aws.region ? { region: aws.region } : {}),
        ...(aws.credentials ? { credentials: aws.credentials } : {}),
      }),
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
