import type { S3Client } from '@aws-sdk/client-s3';
import {
  DependencyError,
  InvalidInputDataError,
  InvalidRequestError,
  PayloadTooLargeError,
  S3AccessDeniedError,
  S3ObjectNotFoundError,
  VectorizerError,
} from '../errors.ts';

/** The AWS SDK's S3 module, imported on first use: it costs about 170 ms to load. */
let sdk: Promise<typeof import('@aws-sdk/client-s3')> | undefined;
export const loadS3Sdk = () => (sdk ??= import('@aws-sdk/client-s3'));

export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

/**
 * Parses `bucket/key` or `s3://bucket/key`.
 * @param field the request field, named in the error.
 * @example parseS3Path('s3://docs/a/b.txt', 's3_file') // { bucket: 'docs', key: 'a/b.txt' }
 */
export function parseS3Path(path: string, field: string): S3Location {
  const trimmed = path.trim().replace(/^s3:\/\//i, '');
  const slash = trimmed.indexOf('/');
  const bucket = slash > 0 ? trimmed.slice(0, slash) : '';
  const key = slash > 0 ? trimmed.slice(slash + 1) : '';
  if (!bucket || !key) {
    throw new InvalidRequestError(`${field} ${JSON.stringify(path)} is not an S3 path: expected "bucket/key" or "s3://bucket/key".`, {
      details: { field, value: path },
    });
  }
  return { bucket, key };
}

export function formatS3Uri(location: S3Location): string {
  return `s3://${location.bucket}/${location.key}`;
}

const NOT_FOUND = new Set(['NoSuchKey', 'NoSuchBucket', 'NotFound']);
const DENIED = new Set(['AccessDenied', 'Forbidden', 'AllAccessDisabled', 'InvalidAccessKeyId', 'SignatureDoesNotMatch']);

/** Maps an S3 SDK failure to the product's error: 404/403 are the caller's, the rest transient. */
export function toS3Error(error: unknown, location: S3Location, action: 'read' | 'write'): VectorizerError {
  if (error instanceof VectorizerError) return error;
  const name = (error as { name?: string }).name ?? '';
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const uri = formatS3Uri(location);
  const details = { bucket: location.bucket, key: location.key };
  if (NOT_FOUND.has(name) || status === 404) {
    return new S3ObjectNotFoundError(
      action === 'read' ? `${uri} does not exist (${name || 'HTTP 404'}).` : `Cannot write ${uri}: the bucket does not exist.`,
      { cause: error, details },
    );
  }
  if (name === 'EntityTooLarge' || status === 413) {
    // The same body is refused however often it is sent: permanent, so the file gets an error record.
    return new PayloadTooLargeError(`S3 refused to store ${uri}: it is too large for one request (${name || 'HTTP 413'}).`, {
      cause: error,
      details,
    });
  }
  if (DENIED.has(name) || status === 403) {
    return new S3AccessDeniedError(
      `Access to ${uri} was denied (${name || 'HTTP 403'}); check the function's IAM role and the bucket policy.`,
      {
        cause: error,
        details,
      },
    );
  }
  return new DependencyError(`S3 ${action} of ${uri} failed (${name || `HTTP ${status ?? '?'}`}); retry later.`, { cause: error, details });
}

/** An object read whole, with what its GET response says about it. */
export interface S3ObjectData {
  readonly bytes: Uint8Array;
  readonly etag?: string;
  readonly size: number;
  /** The object's user metadata (`x-amz-meta-*`, names lower-cased, without the prefix). */
  readonly metadata: Record<string, string>;
}

/**
 * Reads a whole object, refusing (before reading the body) one larger than `maxBytes`.
 */
export async function getObjectBytes(client: S3Client, location: S3Location, maxBytes: number): Promise<Uint8Array> {
  return (await getObject(client, location, maxBytes)).bytes;
}

/**
 * An ETag without the quotes the S3 API puts around it, as event notifications and listings give
 * it: one form everywhere (outputs, error records, the index), so they compare equal.
 * @example bareEtag('"9b2cf535f27731c974343645a3985328"') // '9b2cf535f27731c974343645a3985328'
 */
export function bareEtag(etag: string | undefined): string | undefined {
  return etag?.replaceAll('"', '');
}

/** Reads a whole object with its ETag and size (one request, no HEAD first). */
export async function getObject(client: S3Client, location: S3Location, maxBytes: number): Promise<S3ObjectData> {
  const { GetObjectCommand } = await loadS3Sdk();
  try {
    const response = await client.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
    const size = response.ContentLength ?? 0;
    if (size > maxBytes) {
      (response.Body as { destroy?: () => void } | undefined)?.destroy?.();
      throw new PayloadTooLargeError(
        `${formatS3Uri(location)} is ${size} bytes; the limit is ${maxBytes} bytes (MAX_INPUT_BYTES: raise it, and the worker's memory with it, to embed larger files).`,
        {
          details: { bucket: location.bucket, key: location.key, size, limit: maxBytes },
        },
      );
    }
    const bytes = response.Body ? await response.Body.transformToByteArray() : new Uint8Array();
    return { bytes, etag: bareEtag(response.ETag), size, metadata: response.Metadata ?? {} };
  } catch (error) {
    throw toS3Error(error, location, 'read');
  }
}

/** A whole object, or undefined when it does not exist (other faults are thrown as by getObject). */
export async function getObjectIfExists(client: S3Client, location: S3Location, maxBytes: number): Promise<S3ObjectData | undefined> {
  try {
    return await getObject(client, location, maxBytes);
  } catch (error) {
    if (error instanceof S3ObjectNotFoundError) return undefined;
    throw error;
  }
}

export interface ObjectHead {
  readonly etag?: string;
  readonly size: number;
  readonly metadata: Record<string, string>;
}

/** HEAD of an object, or undefined when it does not exist. */
export async function headObject(client: S3Client, location: S3Location): Promise<ObjectHead | undefined> {
  const { HeadObjectCommand } = await loadS3Sdk();
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: location.bucket, Key: location.key }));
    return { etag: bareEtag(head.ETag), size: head.ContentLength ?? 0, metadata: head.Metadata ?? {} };
  } catch (error) {
    const failure = toS3Error(error, location, 'read');
    if (failure instanceof S3ObjectNotFoundError) return undefined;
    throw failure;
  }
}

/** Writes a JSON document, with optional user metadata (`x-amz-meta-*`). */
/** Deletes an object; deleting one that is not there succeeds (S3 semantics). */
export async function deleteObject(client: S3Client, location: S3Location): Promise<void> {
  const { DeleteObjectCommand } = await loadS3Sdk();
  try {
    await client.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: location.key }));
  } catch (error) {
    throw toS3Error(error, location, 'write');
  }
}

/**
 * User metadata every object this product writes carries (`x-amz-meta-vectorizer-output`), so a
 * notification for one (a `.json` result in the input bucket) is recognised and never embedded.
 */
export const OUTPUT_MARKER = 'vectorizer-output';

/**
 * Bodies from this size up are written as a multipart upload in parts of this size: a single PUT
 * may carry 5 GB on AWS, but emulators and proxies refuse much less (fauxqs: 11 MiB), and a
 * `.vectors.json` of a long document (about 8 KB per 384-d chunk) passes that at ~1,400 chunks.
 */
export const MULTIPART_BYTES = 8 * 1024 * 1024;

/**
 * The JSON text of `value` in pieces: an object's array fields one element at a time, so a
 * document of 50,000 chunks (hundreds of MB) is never one string (V8 caps strings at ~512 MB).
 * Joined, the pieces equal `JSON.stringify(value)`. Pure.
 */
export function* jsonPieces(value: unknown): Generator<string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    yield JSON.stringify(value);
    return;
  }
  let first = true;
  yield '{';
  for (const [key, field] of Object.entries(value)) {
    if (field === undefined || typeof field === 'function') continue;
    yield `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    if (!Array.isArray(field)) {
      yield JSON.stringify(field);
      continue;
    }
    yield '[';
    for (let index = 0; index < field.length; index++) yield `${index ? ',' : ''}${JSON.stringify(field[index] ?? null)}`;
    yield ']';
  }
  yield '}';
}

/** Pieces gathered into buffers of about `size` bytes. */
function* buffered(pieces: Iterable<string>, size: number): Generator<Buffer> {
  let pending: string[] = [];
  let length = 0;
  for (const piece of pieces) {
    pending.push(piece);
    length += piece.length;
    if (length >= size) {
      yield Buffer.from(pending.join(''));
      pending = [];
      length = 0;
    }
  }
  if (pending.length) yield Buffer.from(pending.join(''));
}

/**
 * Writes `body` as JSON, marked as this product's output (OUTPUT_MARKER) with any extra metadata.
 * A body under MULTIPART_BYTES is one PUT; a larger one is streamed as a multipart upload, never
 * held as one string.
 */
export async function putJson(client: S3Client, location: S3Location, body: unknown, metadata?: Record<string, string>): Promise<void> {
  const params = {
    Bucket: location.bucket,
    Key: location.key,
    ContentType: 'application/json',
    Metadata: { [OUTPUT_MARKER]: 'true', ...metadata },
  };
  const chunks = buffered(jsonPieces(body), 1024 * 1024);
  const head: Buffer[] = [];
  let headBytes = 0;
  for (let next = chunks.next(); !next.done; next = chunks.next()) {
    head.push(next.value);
    headBytes += next.value.length;
    if (headBytes >= MULTIPART_BYTES) break;
  }
  try {
    if (headBytes < MULTIPART_BYTES) {
      const { PutObjectCommand } = await loadS3Sdk();
      await client.send(new PutObjectCommand({ ...params, Body: Buffer.concat(head) }));
      return;
    }
    const [{ Upload }, { Readable }] = await Promise.all([import('@aws-sdk/lib-storage'), import('node:stream')]);
    const stream = Readable.from(
      (function* () {
        yield* head;
        yield* chunks;
      })(),
    );
    await new Upload({
      client,
      params: { ...params, Body: stream },
      partSize: MULTIPART_BYTES,
      queueSize: 2,
      leavePartsOnError: false,
    }).done();
  } catch (error) {
    throw toS3Error(error, location, 'write');
  }
}

/**
 * The objects under a prefix with their ETags, every page of the listing; with `maxPages`,
 * undefined when it has more pages than that.
 */
export async function listObjects(client: S3Client, bucket: string, prefix: string): Promise<Map<string, string>>;
export async function listObjects(
  client: S3Client,
  bucket: string,
  prefix: string,
  maxPages: number,
): Promise<Map<string, string> | undefined>;
export async function listObjects(
  client: S3Client,
  bucket: string,
  prefix: string,
  maxPages = Number.POSITIVE_INFINITY,
): Promise<Map<string, string> | undefined> {
  const { ListObjectsV2Command } = await loadS3Sdk();
  const objects = new Map<string, string>();
  let token: string | undefined;
  try {
    for (let pages = 0; ; pages++) {
      if (pages >= maxPages) return undefined;
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token }));
      for (const object of page.Contents ?? []) if (object.Key) objects.set(object.Key, bareEtag(object.ETag) ?? '');
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (!token) return objects;
    }
  } catch (error) {
    throw toS3Error(error, { bucket, key: prefix }, 'read');
  }
}

/** Keys under a prefix, every page of the listing. */
export async function listKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  return [...(await listObjects(client, bucket, prefix)).keys()];
}

/** Deletes every key given (a thousand per request); keys already gone are fine. */
export async function deleteKeys(client: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  const { DeleteObjectsCommand } = await loadS3Sdk();
  for (let start = 0; start < keys.length; start += 1000) {
    const slice = keys.slice(start, start + 1000);
    try {
      const result = await client.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: slice.map((Key) => ({ Key })), Quiet: true } }),
      );
      const failed = result.Errors?.[0];
      if (failed)
        throw new DependencyError(`S3 did not delete s3://${bucket}/${failed.Key}: ${failed.Code ?? ''} ${failed.Message ?? ''}`.trim());
    } catch (error) {
      throw toS3Error(error, { bucket, key: slice[0] }, 'write');
    }
  }
}

/**
 * Decodes bytes as UTF-8, refusing anything else (a BOM is dropped).
 * @param source named in the error, e.g. the S3 URI.
 */
export function decodeUtf8(bytes: Uint8Array, source: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch (cause) {
    throw new InvalidInputDataError(`${source} is not valid UTF-8 text: re-encode it as UTF-8.`, { cause });
  }
}
