import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config.ts';
import { InvalidInputDataError, InvalidRequestError, PayloadTooLargeError, S3AccessDeniedError } from '../errors.ts';
import { type DocumentOptions, documentOptions, isDocumentKey, readTextDocument } from '../pipeline/documents.ts';
import { decodeUtf8, formatS3Uri, getObjectBytes, parseS3Path, type S3Location } from '../storage/s3.ts';
import type { ImageInput } from './schema.ts';

export interface InputContext {
  readonly s3: S3Client;
  /** How documents (PDF, HTML, DOCX, CSV) named by `s3_file` are read, as the worker reads them. */
  readonly documents: DocumentOptions;
  readonly maxInputBytes: number;
  readonly maxInputs: number;
  /** Buckets requests may read (INPUT_BUCKETS); empty means any. */
  readonly allowedBuckets: readonly string[];
}

/** What reading a request's inputs needs, from the process's services. */
export function inputContext(services: {
  readonly s3: S3Client;
  readonly config: Pick<Config, 'limits' | 's3' | 'pipeline'>;
}): InputContext {
  const { limits, s3 } = services.config;
  return {
    s3: services.s3,
    documents: documentOptions(services.config),
    maxInputBytes: limits.maxInputBytes,
    maxInputs: limits.maxInputs,
    allowedBuckets: s3.allowedInputBuckets,
  };
}

/** Refuses an S3 input outside INPUT_BUCKETS before any S3 call. */
function allowedInput(location: S3Location, field: string, context: InputContext): S3Location {
  const allowed = context.allowedBuckets;
  if (allowed.length > 0 && !allowed.includes(location.bucket)) {
    throw new S3AccessDeniedError(
      `${field} names the bucket ${JSON.stringify(location.bucket)}, which requests may not read: use one of ${allowed.join(', ')} (INPUT_BUCKETS).`,
      { details: { bucket: location.bucket, allowed } },
    );
  }
  return location;
}

/**
 * Texts from an S3 object: a JSON array of strings is many texts, anything else is one text.
 * @example textsFromFileContent('["a", "b"]') // ['a', 'b']
 */
export function textsFromFileContent(content: string, source: string): string[] {
  const trimmed = content.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed) && parsed.every((item) => typeof item === 'string')) {
        if (parsed.length === 0) throw new InvalidRequestError(`${source} holds an empty JSON array: expected at least one text.`);
        return parsed;
      }
    } catch (error) {
      if (error instanceof InvalidRequestError) throw error;
      // Not JSON after all: the whole file is one text.
    }
  }
  return [content];
}

/**
 * The texts of `s3_file`: a document's (a PDF's pages, a CSV's rows, an HTML page's or a DOCX's
 * text, read as the worker reads them), else the file as UTF-8, split by textsFromFileContent.
 */
export async function readTextsFromS3(path: string, context: InputContext): Promise<string[]> {
  const location = allowedInput(parseS3Path(path, 's3_file'), 's3_file', context);
  const bytes = await getObjectBytes(context.s3, location, context.maxInputBytes);
  const uri = formatS3Uri(location);
  if (isDocumentKey(location.key)) {
    const items = await readTextDocument(location.key, bytes, uri, 's3_file', context.documents);
    return items.map((item) => item.text);
  }
  return textsFromFileContent(decodeUtf8(bytes, uri), uri);
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Decodes a base64 image, with or without a `data:image/...;base64,` prefix.
 * @param index the image's position, named in the error.
 */
export function decodeBase64Image(value: string, index: number): Uint8Array {
  const payload = value.replace(/^data:[^,]*;base64,/i, '').replace(/\s+/g, '');
  if (!payload || !BASE64.test(payload)) {
    throw new InvalidInputDataError(`images[${index}].base64 is not valid base64 data.`, { details: { index } });
  }
  return Buffer.from(payload, payload.includes('-') || payload.includes('_') ? 'base64url' : 'base64');
}

/** Bytes of every image of the request, in order, fetched from S3 concurrently. */
export async function readImages(request: { images?: ImageInput[]; s3_images?: string[] }, context: InputContext): Promise<Uint8Array[]> {
  const inputs: ImageInput[] = request.images ?? (request.s3_images ?? []).map((path) => ({ s3_path: path }));
  if (inputs.length > context.maxInputs) {
    throw new PayloadTooLargeError(`The request has ${inputs.length} images; the limit is ${context.maxInputs} (MAX_INPUTS).`);
  }
  const field = request.images ? 'images' : 's3_images';
  return Promise.all(
    inputs.map(async (input, index) => {
      if ('base64' in input) return decodeBase64Image(input.base64, index);
      const name = request.images ? `images[${index}].s3_path` : `${field}[${index}]`;
      const location = allowedInput(parseS3Path(input.s3_path, name), name, context);
      return getObjectBytes(context.s3, location, context.maxInputBytes);
    }),
  );
}
