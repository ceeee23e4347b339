import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
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
  /** Pinned sha256 per file; a mismatch fails the download. */
  readonly expectedSha256?: Readonly<Record<string, string>>;
}

/** What was downloaded, written beside the files as `.vectorizer-download.json`. */
export interface DownloadManifest {
  readonly id: string;
  readonly revision: string;
  /** The commit the hub resolved the revision to (`x-repo-commit`), when it says. */
  readonly commit?: string;
  readonly files: Record<string, { sha256: string; size: number }>;
}

export const MANIFEST_FILE = '.vectorizer-download.json';

const SHA256 = /^[0-9a-f]{64}$/;

/** The hub's file URL: `<hub>/<id>/resolve/<revision>/<file>`. */
export function hubFileUrl(hubUrl: string, id: string, revision: string, file: string): string {
  return `${hubUrl.replace(/\/+$/, '')}/${id}/resolve/${encodeURIComponent(revision)}/${file}`;
}

/**
 * Downloads a model's files from a Hugging Face–compatible hub into `dir`, each through a
 * temporary file renamed on success, so an interrupted download never leaves a half file that
 * later looks complete.
 */
export async function downloadModel(request: DownloadRequest): Promise<DownloadManifest> {
  const files: DownloadManifest['files'] = {};
  let commit: string | undefined;
  for (const [file, required] of [
    ...request.files.map((f) => [f, true] as const),
    ...(request.optionalFiles ?? []).map((f) => [f, false] as const),
  ]) {
    const result = await downloadFile(request, file, required);
    if (!result) continue;
    files[file] = { sha256: result.sha256, size: result.size };
    commit ??= result.commit;
  }
  const manifest: DownloadManifest = { id: request.id, revision: request.revision, ...(commit ? { commit } : {}), files };
  await writeFile(join(request.dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
  return manifest;
}

async function downloadFile(
  request: DownloadRequest,
  file: string,
  required: boolean,
): Promise<{ sha256: string; size: number; commit?: string } | undefined> {
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
  if (response.status === 404 && !required) return undefined;
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
  const hash = createHash('sha256');
  const progress = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      loaded += chunk.length;
      hash.update(chunk);
      request.onProgress?.({ file, loaded, total, done: false });
      callback(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body as never), progress, createWriteStream(partial));
  } catch (cause) {
    await rm(partial, { force: true });
    throw new ConfigurationError(`Download of ${url} broke off: ${describe(cause)}. Run again to retry.`, { cause });
  }
  const sha256 = hash.digest('hex');
  // The hub sends the LFS object's sha256 as x-linked-etag; a pinned checksum wins over it.
  const linked = response.headers.get('x-linked-etag')?.replaceAll('"', '').toLowerCase();
  const expected = request.expectedSha256?.[file] ?? (linked && SHA256.test(linked) ? linked : undefined);
  if (expected && expected !== sha256) {
    await rm(partial, { force: true });
    throw new ConfigurationError(`Checksum mismatch for ${url}: expected sha256 ${expected}, got ${sha256}. The file was not kept.`);
  }
  await rename(partial, target);
  request.onProgress?.({ file, loaded, total, done: true });
  return { sha256, size: loaded, commit: response.headers.get('x-repo-commit') ?? undefined };
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
