import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/** The part of Lambda's context the worker reads: how long the invocation has left. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
  /** Named in every log line of the invocation (Powertools' injectLambdaContext), as on Lambda. */
  readonly functionName: string;
  readonly awsRequestId: string;
}

export interface EventSourceOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly region: string;
  /** Records per invocation (Lambda's `batchSize`). */
  readonly batchSize: number;
  /** Longest wait to fill a batch (Lambda's `maximumBatchingWindow`), seconds, from its first record. */
  readonly maximumBatchingWindowSeconds: number;
  /**
   * Invocations in flight at once (Lambda's `MaximumConcurrency`, default 2): the next batch is
   * received and its files read while the current one is embedded.
   */
  readonly maximumConcurrency?: number;
  /** Long-poll wait of one ReceiveMessage, seconds. */
  readonly waitTimeSeconds?: number;
  /**
   * The function's timeout, seconds: each invocation's context counts down from it (the worker
   * stops taking new work before it), and one that runs past it is logged (Lambda would kill it).
   */
  readonly timeoutSeconds: number;
  /** The queue's visibility timeout, seconds: in-flight messages are kept invisible while their invocation runs. */
  readonly visibilityTimeoutSeconds?: number;
  readonly invoke: (event: SQSEvent, context: InvocationContext) => Promise<SQSBatchResponse | undefined>;
  readonly logger: Logger;
}

/** An SQS message as Lambda's event source mapping hands it to the function. */
export function toSqsRecord(message: Message, options: Pick<EventSourceOptions, 'queueArn' | 'region'>): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: options.queueArn,
    awsRegion: options.region,
  };
}

/**
 * A local Lambda event source mapping: long-polls the queue, invokes the handler with batches
 * (up to `batchSize`, waiting at most the batching window), deletes what succeeded and leaves
 * `batchItemFailures` (or the whole batch, if the handler throws) to reappear after the
 * visibility timeout — and, past `maxReceiveCount`, to move to the DLQ.
 */
export function startEventSourceMapping(options: EventSourceOptions): { stop(): Promise<void>; invocations(): number } {
  let stopped = false;
  let invocations = 0;
  const abort = new AbortController();

  const receive = (waitSeconds: number, max: number) =>
    options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: Math.min(10, max),
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['All'],
      }),
      { abortSignal: abort.signal },
    );

  /**
   * Long-polls for a first record, then fills the batch until it is full or the batching window
   * (counted from the first record, as Lambda does) has passed. SQS waits in whole seconds, so the
   * last part of a window is short polls 50 ms apart.
   */
  async function receiveBatch(): Promise<Message[]> {
    const messages: Message[] = [];
    let deadline = Number.POSITIVE_INFINITY;
    while (!stopped && messages.length < options.batchSize) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const first = messages.length === 0;
      const wait = first ? (options.waitTimeSeconds ?? 20) : Math.min(20, Math.floor(remaining / 1000));
      const received = (await receive(wait, options.batchSize - messages.length)).Messages ?? [];
      if (first && received.length > 0) deadline = Date.now() + options.maximumBatchingWindowSeconds * 1000;
      messages.push(...received);
      if (messages.length === 0) break; // an empty long poll: the caller polls again
      if (received.length === 0 && wait === 0) await new Promise((resolve) => setTimeout(resolve, Math.min(50, remaining)));
    }
    return messages;
  }

  async function deleteSucceeded(messages: Message[], failedIds: Set<string>): Promise<void> {
    const done = messages.filter((message) => !failedIds.has(message.MessageId ?? ''));
    for (let start = 0; start < done.length; start += 10) {
      const slice = done.slice(start, start + 10);
      await options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: slice.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
        }),
      );
    }
  }

  /**
   * While an invocation runs, its messages' visibility is extended every half timeout, so a long
   * invocation is not received a second time meanwhile (on AWS the timeout is set six times the
   * function's instead).
   */
  function keepInvisible(messages: Message[]): ReturnType<typeof setInterval> | undefined {
    const visibility = options.visibilityTimeoutSeconds;
    if (!visibility) return undefined;
    const timer = setInterval(
      () => {
        const entries = messages.map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: visibility,
        }));
        void (async () => {
          for (let start = 0; start < entries.length; start += 10) {
            await options.sqs.send(
              new ChangeMessageVisibilityBatchCommand({ QueueUrl: options.queueUrl, Entries: entries.slice(start, start + 10) }),
            );
          }
        })().catch((error: unknown) => options.logger.warn('visibility extension failed', { error: error as Error }));
      },
      (visibility * 1000) / 2,
    );
    timer.unref();
    return timer;
  }

  async function invokeAndDelete(messages: Message[]): Promise<void> {
    const event: SQSEvent = { Records: messages.map((message) => toSqsRecord(message, options)) };
    invocations++;
    const started = Date.now();
    const timeoutMs = options.timeoutSeconds * 1000;
    // While the stack stops, no time is left: texts store what they did and continue after a restart.
    const context: InvocationContext = {
      getRemainingTimeInMillis: () => (stopped ? 0 : timeoutMs - (Date.now() - started)),
      functionName: 'worker',
      awsRequestId: randomUUID(),
    };
    const heartbeat = keepInvisible(messages);
    let failedIds: Set<string>;
    try {
      const response = await options.invoke(event, context);
      failedIds = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    } catch (error) {
      // A thrown handler error fails the whole batch: nothing is deleted, everything retries.
      options.logger.error('worker invocation failed; the whole batch will be retried', { error: error as Error });
      return;
    } finally {
      clearInterval(heartbeat);
      const elapsed = Date.now() - started;
      if (elapsed > timeoutMs) {
        options.logger.warn('worker invocation ran past its timeout (Lambda would have stopped it)', {
          elapsed_ms: elapsed,
          timeout_ms: timeoutMs,
        });
      }
    }
    if (failedIds.size > 0) options.logger.warn('batch item failures', { failed: [...failedIds] });
    await deleteSucceeded(messages, failedIds).catch((error: unknown) => options.logger.error('delete failed', { error: error as Error }));
  }

  const inFlight = new Set<Promise<void>>();
  const concurrency = options.maximumConcurrency ?? 2;
  const loop = (async () => {
    while (!stopped) {
      if (inFlight.size >= concurrency) {
        await Promise.race(inFlight);
        continue;
      }
      let messages: Message[];
      try {
        messages = await receiveBatch();
      } catch (error) {
        if (stopped) break;
        options.logger.error('receive failed; retrying in 1 s', { error: error as Error });
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      if (messages.length === 0) continue;
      const invocation = invokeAndDelete(messages).finally(() => inFlight.delete(invocation));
      inFlight.add(invocation);
    }
    await Promise.all(inFlight);
  })();

  return {
    async stop() {
      stopped = true;
      abort.abort();
      await loop.catch(() => undefined);
    },
    invocations: () => invocations,
  };
}
