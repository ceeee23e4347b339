/** The files of a folder `vectorizer ingest` uploads, and how it uploads one. */
import { createReadStream, type Dirent } from 'node:fs';
import { opendir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { PipelineConfig } from '../config.ts';
import { IMAGE_EXTENSIONS, TEXT_EXTENSIONS } from '../pipeline/documents.ts';
import { isMetadataSidecar } from '../pipeline/metadata.ts';
import { isOwnOutputKey } from '../pipeline/outputs.ts';
import { isPartKey } from '../pipeline/parts.ts';
import { bareEtag, loadS3Sdk, MULTIPART_BYTES, toS3Error } from '../storage/s3.ts';

/** What ingest does with one file of the folder. */
export type FileKind =
  /** Uploaded, and its `<key>.vectors.json` or `<key>.error.json` waited for. */
  | 'source'
  /** A `<key>.metadata.json` sidecar (user metadata of its source): uploaded before the sources, not waited for. */
  | 'metadata'
  | 'hidden'
  /** One of the pipeline's own outputs (a folder copied from a bucket): never uploaded. */
  | 'output'
  /** An extension the pipeline does not embed: the bucket sends no notification for it, so it is not uploaded. */
  | 'unsupported'
  /** A supported extension in mixed case (`.Md`): S3's suffix filters are case-sensitive, so no notification would come. */
  | 'mixed-case';

/** The types the bucket notifications deliver (as `vectorizer sync` reads them). */
const SUPPORTED: ReadonlySet<string> = new Set([...TEXT_EXTENSIONS, ...IMAGE_EXTENSIONS]);

/** A path's extension as written (`.Md`), or '' without one. Pure. */
export function extensionOf(path: string): string {
  const dot = path.lastIndexOf('.');
  return dot > path.lastIndexOf('/') ? path.slice(dot) : '';
}

/**
 * What ingest does with a file, by its path relative to the folder (`/` separators). Pure.
 * @example classifyFile('notes/a.Md', config.pipeline) // 'mixed-case'
 */
export function classifyFile(relativePath: string, pipeline: PipelineConfig): FileKind {
  if (relativePath.split('/').some((segment) => segment.startsWith('.'))) return 'hidden';
  if (isOwnOutputKey(relativePath, pipeline) || isPartKey(relativePath, pipeline.outputSuffix)) return 'output';
  if (isMetadataSidecar(relativePath)) return 'metadata';
  const extension = extensionOf(relativePath);
  if (!SUPPORTED.has(extension.toLowerCase())) return 'unsupported';
  return extension === extension.toLowerCase() || extension === extension.toUpperCase() ? 'source' : 'mixed-case';
}

const CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.json': 'application/json',
  '.jsonl': 'application/jsonl',
  '.csv': 'text/csv',
  '.tsv': 'text/tab-separated-values',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.pdf': 'application/pdf',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.avif': 'image/avif',
});

/** The Content-Type an upload gets, by extension (`application/octet-stream` when unknown). Pure. */
export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extensionOf(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * A key prefix as a folder: `docs` and `/docs/` are both `docs/`; empty stays empty. Pure.
 * @example folderPrefix('docs') // 'docs/'
 */
export function folderPrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '');
  return trimmed && !trimmed.endsWith('/') ? `${trimmed}/` : trimmed;
}

/** A folder's files by what ingest does with them (paths relative to the folder, `/` separators, sorted). */
export interface FolderPlan {
  readonly sources: readonly string[];
  readonly sidecars: readonly string[];
  readonly skipped: {
    readonly unsupported: readonly string[];
    readonly mixed_case: readonly string[];
    /** Hidden files and folders (a hidden folder counts once: it is not entered). */
    readonly hidden: number;
    readonly outputs: number;
  };
}

/**
 * Walks `root` (hidden folders not entered, links to folders not followed: they may loop) and
 * sorts its files by what ingest does with them. Only paths are held, never contents.
 */
export async function planFolder(root: string, pipeline: PipelineConfig): Promise<FolderPlan> {
  const byKind: Record<FileKind, string[]> = { source: [], metadata: [], hidden: [], output: [], unsupported: [], 'mixed-case': [] };
  let hiddenEntries = 0;
  async function walk(dir: string): Promise<void> {
    const entries: Dirent[] = [];
    for await (const entry of await opendir(dir)) entries.push(entry);
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.name.startsWith('.')) hiddenEntries++;
      else if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() || (entry.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isFile())) {
        const relativePath = relative(root, path).split(sep).join('/');
        byKind[classifyFile(relativePath, pipeline)].push(relativePath);
      }
    }
  }
  await walk(root);
  for (const paths of Object.values(byKind)) paths.sort();
  return {
    sources: byKind.source,
    sidecars: byKind.metadata,
    skipped: {
      unsupported: byKind.unsupported,
      mixed_case: byKind['mixed-case'],
      hidden: hiddenEntries + byKind.hidden.length,
      outputs: byKind.output.length,
    },
  };
}

/**
 * Uploads one file with its Content-Type: one PUT (the file read whole) below MULTIPART_BYTES,
 * else a multipart upload streamed from disk, so at most a part per upload is in memory.
 * @returns the object's ETag without quotes, as the worker records it.
 * @throws VectorizerError (toS3Error) when S3 refuses or cannot be reached; the file system's error when it cannot be read.
 */
export async function uploadFile(s3: S3Client, location: { bucket: string; key: string }, path: string): Promise<string> {
  const params = { Bucket: location.bucket, Key: location.key, ContentType: contentTypeOf(path) };
  // Read before the request: a file that cannot be read is not an S3 failure.
  const body = (await stat(path)).size < MULTIPART_BYTES ? await readFile(path) : undefined;
  try {
    if (body) {
      const { PutObjectCommand } = await loadS3Sdk();
      return bareEtag((await s3.send(new PutObjectCommand({ ...params, Body: body }))).ETag) ?? '';
    }
    const { Upload } = await import('@aws-sdk/lib-storage');
    const upload = new Upload({
      client: s3,
      params: { ...params, Body: createReadStream(path) },
      partSize: MULTIPART_BYTES,
      queueSize: 2,
      leavePartsOnError: false,
    });
    return bareEtag((await upload.done()).ETag) ?? '';
  } catch (error) {
    throw toS3Error(error, location, 'write');
  }
}

/** Runs `work` on every item, `limit` at a time. */
export async function inLanes<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
