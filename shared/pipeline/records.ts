import { z } from 'zod';
import { InvalidRequestError } from '../errors.ts';
import { type PartMessage, partMessageSchema } from './parts.ts';

/** One object an S3 notification names (key decoded). */
export interface S3ObjectRef {
  readonly bucket: string;
  readonly key: string;
  readonly size?: number;
  readonly etag?: string;
}

/** An object event: created (or overwritten), or removed (deleted, or a delete marker created). */
export interface S3ObjectEvent extends S3ObjectRef {
  readonly event: 'created' | 'removed';
}

/** What one SQS message body asks the worker to do. */
export type WorkItem =
  | { readonly kind: 's3-objects'; readonly objects: S3ObjectEvent[] }
  /** A job message, validated later so a bad one can still get an error record at its destination. */
  | { readonly kind: 'job'; readonly body: Record<string, unknown> }
  /** A part of a large document the worker queued itself. */
  | { readonly kind: 'part'; readonly part: PartMessage }
  | { readonly kind: 'ignore'; readonly reason: string };

const s3EventRecordSchema = z.object({
  eventSource: z.literal('aws:s3'),
  eventName: z.string(),
  s3: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({ key: z.string().min(1), size: z.number().optional(), eTag: z.string().optional() }),
  }),
});

const s3EventSchema = z.object({ Records: z.array(s3EventRecordSchema).min(1) });
const s3TestEventSchema = z.object({ Event: z.literal('s3:TestEvent') });

/**
 * S3 sends keys URL-encoded, with spaces as `+` (application/x-www-form-urlencoded).
 * @example decodeS3Key('my+folder/r%C3%A9sum%C3%A9.txt') // 'my folder/résumé.txt'
 */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/**
 * Classifies an SQS message body: an S3 event notification (its ObjectCreated and ObjectRemoved
 * records), the S3 test event (ignored), or a job message in the invoke request schema.
 * @throws InvalidRequestError when the body is none of these (a permanent failure).
 */
export function parseWorkItem(body: string): WorkItem {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (cause) {
    throw new InvalidRequestError(
      `The message body is not JSON (${(cause as Error).message}): expected an S3 event notification or a job message.`,
      { cause },
    );
  }
  if (s3TestEventSchema.safeParse(parsed).success) return { kind: 'ignore', reason: 's3:TestEvent' };
  if (typeof parsed === 'object' && parsed !== null && 'Records' in parsed) {
    const event = s3EventSchema.safeParse(parsed);
    if (!event.success) {
      throw new InvalidRequestError(
        `The message looks like an S3 event notification but is malformed: ${event.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}.`,
      );
    }
    const objects = event.data.Records.flatMap((record): S3ObjectEvent[] => {
      const kind = record.eventName.startsWith('ObjectCreated:')
        ? 'created'
        : record.eventName.startsWith('ObjectRemoved:')
          ? 'removed'
          : undefined;
      if (!kind) return [];
      const { key, size, eTag } = record.s3.object;
      return [{ event: kind, bucket: record.s3.bucket.name, key: decodeS3Key(key), size, etag: eTag }];
    });
    return objects.length ? { kind: 's3-objects', objects } : { kind: 'ignore', reason: 'no ObjectCreated or ObjectRemoved records' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidRequestError('The message body is not a JSON object: expected an S3 event notification or a job message.');
  }
  if ('vectorizer_part' in parsed) {
    const part = partMessageSchema.safeParse(parsed);
    if (!part.success) {
      throw new InvalidRequestError(
        `The message looks like a document part but is malformed: ${part.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}.`,
      );
    }
    return { kind: 'part', part: part.data.vectorizer_part };
  }
  return { kind: 'job', body: parsed as Record<string, unknown> };
}
