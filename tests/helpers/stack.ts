import { randomUUID } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { ZodType } from 'zod';
import type { Resources } from '../../local/resources.ts';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/stack.ts';
import { EMULATOR_ENV } from './emulator.ts';

/** Resources with unique names and short timeouts, so retries and the DLQ happen within seconds. */
export function testResources(
  options: {
    visibilityTimeoutSeconds?: number;
    maxReceiveCount?: number;
    batchSize?: number;
    suffixes?: string[];
    timeoutSeconds?: number;
  } = {},
): Resources & { names: { bucket: string; queue: string; dlq: string } } {
  const id = randomUUID().slice(0, 8);
  const names = { bucket: `input-${id}`, queue: `jobs-${id}`, dlq: `jobs-${id}-dlq` };
  return {
    names,
    buckets: [names.bucket],
    queues: [
      { name: names.dlq },
      {
        name: names.queue,
        visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 2,
        deadLetterQueue: names.dlq,
        maxReceiveCount: options.maxReceiveCount ?? 3,
      },
    ],
    notifications: [
      {
        bucket: names.bucket,
        queue: names.queue,
        prefix: '',
        suffixes: options.suffixes ?? [
          '.txt',
          '.md',
          '.json',
          '.jsonl',
          '.pdf',
          '.html',
          '.htm',
          '.docx',
          '.csv',
          '.tsv',
          '.png',
          '.jpg',
          '.jpeg',
          '.webp',
          '.gif',
          '.tif',
          '.tiff',
          '.avif',
        ],
      },
    ],
    worker: {
      queue: names.queue,
      batchSize: options.batchSize ?? 10,
      maximumBatchingWindowSeconds: 0.2,
      ...(options.timeoutSeconds ? { timeoutSeconds: options.timeoutSeconds } : {}),
    },
  };
}

/** A local stack on free ports, with a model folder and extra environment. */
export function startTestStack(
  modelEnv: Record<string, string>,
  resources: Resources,
  hooks: Pick<LocalStackOptions, 'configureS3' | 'wrapWorker' | 'wrapIndex' | 'dataDir'> = {},
): Promise<LocalStack> {
  return startLocalStack({
    // No index unless a test asks for one (with its own INDEX_URI): the local stack's default is the user's cache.
    env: {
      ...EMULATOR_ENV,
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR',
      ORT_INTRA_OP_THREADS: '2',
      INDEX_SINK: 'none',
      ...modelEnv,
    },
    resources,
    awsPort: 0,
    invokePort: 0,
    pollWaitSeconds: 1,
    ...hooks,
  });
}

export async function listKeys(s3: S3Client, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((object) => object.Key ?? ''));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

export async function readJson<T = Record<string, unknown>>(s3: S3Client, bucket: string, key: string, schema?: ZodType<T>): Promise<T> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const value: unknown = JSON.parse(await response.Body!.transformToString());
  // With a schema, the document must match it (the product's own, not a shape re-declared here).
  return schema ? schema.parse(value) : (value as T);
}

/** Polls until `check` returns a value (not undefined) or the time runs out. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
