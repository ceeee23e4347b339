import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { type Env, loadConfig } from '../shared/config.ts';
import { ConfigurationError } from '../shared/errors.ts';
import type { IndexSink } from '../shared/index/types.ts';
import { createInvokeHandler } from '../shared/invoke-handler.ts';
import { logger } from '../shared/logger.ts';
import type { DownloadProgress } from '../shared/models/download.ts';
import { createServices, type Services } from '../shared/services.ts';
import { createS3Client } from '../shared/storage/client.ts';
import { createWorkerHandler } from '../shared/worker-handler.ts';
import { type InvocationContext, startEventSourceMapping } from './event-source.ts';
import { LOOPBACK, startFauxqsOn } from './fauxqs.ts';
import { startInvokeServer } from './invoke-server.ts';
import { startNotificationBridge, type UploadSource } from './notifications.ts';
import type { Resources } from './resources.ts';
import { quarantineDamagedObjects } from './storage-repair.ts';
import { type Activity, countOutputs, type QueueDepth } from './summary.ts';

export interface LocalStackOptions {
  readonly env: Env;
  readonly resources: Resources;
  /** S3+SQS emulator port (4566 by default; 0 picks a free one). */
  readonly awsPort: number;
  /** Address the emulator listens on: 127.0.0.1 unless set (0.0.0.0 exposes it, unauthenticated, to the network). */
  readonly awsHost?: string;
  /** Lambda Invoke API port (9000 by default; 0 picks a free one). */
  readonly invokePort: number;
  /** Use an S3+SQS service already running there (LocalStack, with its own notifications) instead of fauxqs. */
  readonly externalEndpoint?: string;
  /** Where the emulator keeps its objects and messages across restarts; unset keeps nothing. */
  readonly dataDir?: string;
  /** Long-poll wait of the event source mapping, seconds (short in tests so stop is quick). */
  readonly pollWaitSeconds?: number;
  readonly onProgress?: (progress: DownloadProgress) => void;
  /** Test hooks: change the worker's S3 client (fault injection) or wrap its handler (crashes). */
  readonly configureS3?: (client: S3Client) => void;
  /** Wraps the index sink (tests inject sink faults this way). */
  readonly wrapIndex?: (sink: IndexSink) => IndexSink;
  readonly wrapWorker?: (worker: WorkerInvoke) => WorkerInvoke;
}

/** The worker as the event source invokes it (the context gives its remaining time). */
export type WorkerInvoke = (event: SQSEvent, context?: InvocationContext) => Promise<SQSBatchResponse | undefined>;

export interface LocalStack {
  readonly awsEndpoint: string;
  readonly invokeUrl: string;
  readonly services: Services;
  readonly queueUrls: Readonly<Record<string, string>>;
  /** Every object put into the embedded emulator (absent with an external S3). */
  readonly uploads?: UploadSource;
  /** Outputs the worker has written since the stack started (live counters, for the summary line). */
  readonly activity: Activity;
  /** The worker's queue now: messages waiting, and received but not yet deleted. */
  queueDepth(): Promise<QueueDepth>;
  stop(): Promise<void>;
}

const REGION = 'us-east-1';

/**
 * Everything on this machine: the fauxqs S3+SQS emulator with the declared buckets and queues,
 * the notification bridge, the worker behind a local event source mapping, and the Lambda
 * Invoke API. Model and configuration come from the same environment variables as on Lambda.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const stops: (() => Promise<void>)[] = [];
  try {
    const aws = options.externalEndpoint
      ? await lookupExternal(options)
      : await startEmulator(options.resources, options.awsPort, options.dataDir, options.awsHost);
    stops.push(aws.stop);
    const { awsEndpoint, queueUrls, queueArns } = aws;

    const env: Env = {
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: REGION,
      ...options.env,
      AWS_ENDPOINT_URL: awsEndpoint,
      RESULTS_BUCKET: options.env.RESULTS_BUCKET ?? options.resources.buckets[0],
      // The local stack keeps a LanceDB index of dense models (INDEX_URI, default
      // ~/.cache/serverless-vectorizer/index) so `vectorizer search` works, after a restart too.
      INDEX_SINK: options.env.INDEX_SINK ?? 'auto',
      // Parts of large documents go back to the worker's own queue, as in the deployment.
      WORK_QUEUE_URL: options.env.WORK_QUEUE_URL ?? queueUrls[options.resources.worker.queue],
    };
    const config = loadConfig(env, { modelId: 'Xenova/bge-small-en-v1.5' });
    const s3 = await createS3Client(config.s3);
    options.configureS3?.(s3);
    const activity = countOutputs(s3, config.pipeline);
    const sqs = new SQSClient({
      endpoint: awsEndpoint,
      region: config.s3.region ?? REGION,
      ...(config.s3.credentials ? { credentials: config.s3.credentials } : {}),
    });
    const services = await createServices(config, { s3, onProgress: options.onProgress, wrapIndex: options.wrapIndex });
    stops.unshift(() => services.dispose());

    // LocalStack sends real notifications; fauxqs has none, so the bridge stands in for them.
    if (aws.uploads)
      startNotificationBridge({ uploads: aws.uploads, rules: options.resources.notifications, queueUrls, s3, sqs, region: REGION, logger });

    const workerHandler = await createWorkerHandler(services);
    const invokeWorker = (event: SQSEvent, context?: InvocationContext) => workerHandler(event, (context ?? {}) as never);
    const worker = options.wrapWorker ? options.wrapWorker(invokeWorker) : invokeWorker;
    const mapping = startEventSourceMapping({
      sqs,
      queueUrl: queueUrls[options.resources.worker.queue],
      queueArn: queueArns[options.resources.worker.queue],
      region: REGION,
      batchSize: options.resources.worker.batchSize,
      maximumBatchingWindowSeconds: options.resources.worker.maximumBatchingWindowSeconds,
      maximumConcurrency: options.resources.worker.maximumConcurrency,
      waitTimeSeconds: options.pollWaitSeconds,
      timeoutSeconds: options.resources.worker.timeoutSeconds ?? 60,
      visibilityTimeoutSeconds: options.resources.queues.find((queue) => queue.name === options.resources.worker.queue)
        ?.visibilityTimeoutSeconds,
      invoke: worker,
      logger,
    });
    stops.unshift(() => mapping.stop());

    const invoke = await createInvokeHandler(services);
    const invokeServer = await startInvokeServer({
      port: options.invokePort,
      functions: {
        function: (event, context) => invoke(event, context as never),
        worker: (event) => worker(event as SQSEvent),
      },
      functionUrl: (event, context) => invoke(event, context as never),
      logger,
    });
    stops.unshift(() => invokeServer.stop());

    return {
      awsEndpoint,
      invokeUrl: `${invokeServer.url}/2015-03-31/functions/function/invocations`,
      services,
      queueUrls,
      ...(aws.uploads ? { uploads: aws.uploads } : {}),
      activity,
      async queueDepth() {
        const { Attributes } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: queueUrls[options.resources.worker.queue],
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        return {
          waiting: Number(Attributes?.ApproximateNumberOfMessages ?? 0),
          inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
        };
      },
      async stop() {
        for (const stop of stops) await stop().catch(() => undefined);
        sqs.destroy();
        s3.destroy();
      },
    };
  } catch (error) {
    for (const stop of stops) await stop().catch(() => undefined);
    throw error;
  }
}

export interface AwsSide {
  awsEndpoint: string;
  queueUrls: Record<string, string>;
  queueArns: Record<string, string>;
  uploads?: UploadSource;
  stop(): Promise<void>;
}

/** fauxqs in this process, with the declared buckets and queues (no notifications: see startNotificationBridge). */
export async function startEmulator(resources: Resources, port: number, dataDir?: string, host = LOOPBACK): Promise<AwsSide> {
  if (dataDir) {
    // A stack killed mid-write leaves object files fauxqs cannot load: set aside, and said.
    const quarantine = join(dataDir, 'damaged', new Date().toISOString().replaceAll(':', '-'));
    const moved = await quarantineDamagedObjects(join(dataDir, 's3'), quarantine);
    if (moved.length > 0) {
      logger.warn('emulator files damaged by an earlier crash were moved aside; their writes were never acknowledged', {
        moved_to: quarantine,
        files: moved,
      });
    }
  }
  const emulator = await startFauxqsOn(host, {
    port,
    logger: false,
    messageSpies: { bufferSize: 1000 },
    // Queues and messages in SQLite, objects as files: a restart (or a crash) loses nothing written.
    ...(dataDir ? { dataDir, s3StorageDir: join(dataDir, 's3') } : {}),
  });
  const queueUrls: Record<string, string> = {};
  const queueArns: Record<string, string> = {};
  for (const bucket of resources.buckets) emulator.createBucket(bucket);
  // Dead-letter queues first: a redrive policy names its DLQ's ARN.
  const ordered = [...resources.queues].sort((a, b) => Number(Boolean(a.deadLetterQueue)) - Number(Boolean(b.deadLetterQueue)));
  for (const queue of ordered) {
    const attributes: Record<string, string> = {};
    if (queue.visibilityTimeoutSeconds !== undefined) attributes.VisibilityTimeout = String(queue.visibilityTimeoutSeconds);
    if (queue.deadLetterQueue) {
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: queueArns[queue.deadLetterQueue],
        maxReceiveCount: String(queue.maxReceiveCount ?? 3),
      });
    }
    // A queue kept from an earlier run (dataDir) holds its messages: createQueue would replace it
    // with an empty one, so it is reused, with the attributes of this run.
    const kept = emulator.inspectQueue(queue.name);
    if (kept) {
      await setQueueAttributes(`http://127.0.0.1:${emulator.port}`, kept.url, attributes);
      queueUrls[queue.name] = kept.url;
      queueArns[queue.name] = kept.arn;
      continue;
    }
    const created = emulator.createQueue(queue.name, { attributes });
    queueUrls[queue.name] = created.queueUrl;
    queueArns[queue.name] = created.queueArn;
  }
  const uploads: UploadSource = {
    onUpload(listener) {
      // fauxqs's spy sees every upload, synchronously, in order. This predicate never matches, so
      // it stays registered and observes every event.
      void emulator.spy.waitForMessage((message) => {
        if (message.service === 's3' && (message.status === 'uploaded' || message.status === 'deleted'))
          listener(message.bucket, message.key, message.status);
        return false;
      });
    },
    deliver: (queueName, body) => void emulator.sendMessage(queueName, body),
  };
  return { awsEndpoint: `http://127.0.0.1:${emulator.port}`, queueUrls, queueArns, uploads, stop: () => emulator.stop() };
}

async function setQueueAttributes(endpoint: string, queueUrl: string, attributes: Record<string, string>): Promise<void> {
  if (Object.keys(attributes).length === 0) return;
  const sqs = new SQSClient({ endpoint, region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: attributes }));
  } finally {
    sqs.destroy();
  }
}

/** An S3+SQS service someone else runs (LocalStack with localstack/init-aws.sh): look the queues up. */
async function lookupExternal(options: LocalStackOptions): Promise<AwsSide> {
  const endpoint = options.externalEndpoint as string;
  const sqs = new SQSClient({ endpoint, region: REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const queueUrls: Record<string, string> = {};
  const queueArns: Record<string, string> = {};
  try {
    for (const queue of options.resources.queues) {
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queue.name }));
      const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
      queueUrls[queue.name] = QueueUrl ?? '';
      queueArns[queue.name] = Attributes?.QueueArn ?? '';
    }
  } catch (cause) {
    throw new ConfigurationError(
      `Cannot find the queues at ${endpoint} (${(cause as Error).message}): start LocalStack with localstack/docker-compose.yml first.`,
      { cause },
    );
  } finally {
    sqs.destroy();
  }
  return { awsEndpoint: endpoint, queueUrls, queueArns, stop: async () => undefined };
}
