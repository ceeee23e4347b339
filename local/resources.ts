import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigurationError } from '../shared/errors.ts';

const queueSchema = z.strictObject({
  name: z.string().min(1),
  visibilityTimeoutSeconds: z.number().int().min(0).max(43200).optional(),
  deadLetterQueue: z.string().min(1).optional(),
  maxReceiveCount: z.number().int().min(1).optional(),
});

const notificationSchema = z.strictObject({
  bucket: z.string().min(1),
  queue: z.string().min(1),
  prefix: z.string().default(''),
  suffixes: z.array(z.string().min(1)).min(1),
});

/** The declarative description of the local stack's resources (localstack/resources.json). */
export const resourcesSchema = z.strictObject({
  $comment: z.string().optional(),
  buckets: z.array(z.string().min(1)),
  queues: z.array(queueSchema),
  notifications: z.array(notificationSchema),
  worker: z.strictObject({
    queue: z.string().min(1),
    batchSize: z.number().int().min(1).max(10_000),
    maximumBatchingWindowSeconds: z.number().min(0).max(300),
    /** Invocations at once (Lambda's MaximumConcurrency); here they share one process and model. */
    maximumConcurrency: z.number().int().min(1).max(1000).optional(),
    /** The function's timeout (seconds, default 60): the worker's time budget per invocation, as on Lambda. */
    timeoutSeconds: z.number().int().min(1).max(900).optional(),
  }),
});

export type Resources = z.infer<typeof resourcesSchema>;
export type NotificationRule = z.infer<typeof notificationSchema>;

export async function loadResources(path: string): Promise<Resources> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new ConfigurationError(`Cannot read the local stack resources ${path}: ${(cause as Error).message}.`, { cause });
  }
  const result = resourcesSchema.safeParse(parsed);
  if (!result.success) {
    throw new ConfigurationError(
      `${path} is not a valid resources file: ${result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}.`,
    );
  }
  return result.data;
}

/** True when a key passes a rule's prefix and one of its suffixes (S3's own filter semantics). */
export function matchesRule(rule: NotificationRule, bucket: string, key: string): boolean {
  return rule.bucket === bucket && key.startsWith(rule.prefix) && rule.suffixes.some((suffix) => key.endsWith(suffix));
}
