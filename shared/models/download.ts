import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ConfigurationError } from '../errors.ts';

export interface DownloadProgress {
  readonly file: string;
  readonly loaded: number;
  /** Bytes expected, when the server says (`content-length`). */
  readonly total?: number;
  readonly done: boolean;
}

export interface DownloadRequest {
  /** Hub base URL (`HF_ENDPOINT`), e.g. https://huggingface.co or a mirror. */
  readonly hubUrl: string;
  readonly id: string;
  readonly revision: string;
  /** Files that must exist; a 404 on one of them fails the download. */
  readonly files: readonly string[];
  /** Files fetched when the repository has them. */
  readonly optionalFiles?: readonly string[];
  readonly dir: string;
  readonly onProgress?: (progress: DownloadProgress) => void;
  readonly fetchImpl?: typeof fetch;
}

/** The hub's file URL: `<hub>/<id>/resolve/<revision>/<file>`. */
export function hubFileUrl(hubUrl: string, id: string, revision: string, file: string): string {
  return `${hubUrl.replace(/\/+$/, '')}/${id}/resolve/${encodeURIComponent(revision)}/${file}`;
}

/**
 * Downloads a model's files from a Hugging Face–compatible hub into `dir`, each through a
 * temporary file renamed on success, so an interrupted download never leaves a half file that
 * later looks complete.
 */
export async function downloadModel(request: DownloadRequest): Promise<void> {
  for (const file of request.files) await downloadFile(request, file, true);
  for (const file of request.optionalFiles ?? []) await downloadFile(request, file, false);
}

async function downloadFile(request: DownloadRequest, file: string, required: boolean): Promise<void> {
  const url = hubFileUrl(request.hubUrl, request.id, request.revision, file);
  const fetchImpl = request.fetchImpl ?? fetch;
  let response: Response;
  try {
    response = await fetchImpl(url, { redirect: 'follow' });
  } catch (cause) {
    throw new ConfigurationError(
      `Could not download ${request.id} (${file}) from HF_ENDPOINT=${JSON.stringify(request.hubUrl)}: ${describe(cause)}. ` +
        'Offline? Set MODEL_DIR to a folder holding the model files, or HF_ENDPOINT to a reachable mirror.',
      { cause },
    );
  }
  if (response.status === 404 && !required) return;
  if (!response.ok || !response.body) {
    throw new ConfigurationError(
      `Could not download ${url}: HTTP ${response.status}. Check MODEL_ID=${JSON.stringify(request.id)} and MODEL_REVISION=${JSON.stringify(request.revision)}.`,
    );
  }
  const target = join(request.dir, file);
  const partial = `${target}.partial-${process.pid}`;
  await mkdir(dirname(target), { recursive: true });
  const total = Number(response.headers.get('content-length')) || undefined;
  let loaded = 0;
  const progress = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      loaded += chunk.length;
      request.onProgress?.({ file, loaded, total, done: false });
      callback(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body as never), progress, createWriteStream(partial));
    await rename(partial, target);
  } catch (cause) {
    await rm(partial, { force: true });
    throw new ConfigurationError(`Download of ${url} broke off: ${describe(cause)}. Run again to retry.`, { cause });
  }
  request.onProgress?.({ file, loaded, total, done: true });
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
