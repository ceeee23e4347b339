import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { loadConfig, type PipelineConfig, type S3Config } from '../config.ts';
import { describeFailure, toErrorBody, toVectorizerError } from '../errors.ts';
import { DEFAULT_MODEL_ID } from '../models/catalog.ts';
import { createS3Client } from '../storage/client.ts';
import { loadS3Sdk, toS3Error } from '../storage/s3.ts';
import { extensionOf, type FolderPlan, folderPrefix, inLanes, planFolder, uploadFile } from './ingest-files.ts';
import { DIRECT_CHECKS, type IngestedFile, type IngestFailure, outputWatcher } from './ingest-outputs.ts';
import type { CliIo } from './io.ts';
import { parseCommand } from './options.ts';
import { progressBar } from './progress.ts';

export type { IngestFailure } from './ingest-outputs.ts';

const USAGE = 'vectorizer ingest DIR [--bucket B] [--prefix P] [--timeout SECONDS] [--concurrency N] [--json]';

/** npm start's bucket and emulator port (localstack/resources.json, local/command.ts): the target when nothing names another. */
export const LOCAL_STACK_BUCKET = 'vectorizer-input';
const LOCAL_STACK_PORT = '4566';
const DEFAULT_TIMEOUT_SECONDS = 600;
const DEFAULT_CONCURRENCY = 8;
/** A progress line every this often when stderr is not a terminal (CI logs), instead of a bar redrawn in place. */
const LOG_EVERY_MS = 5000;

/** What `vectorizer ingest` prints (`--json`: this object). */
export interface IngestSummary {
  readonly bucket: string;
  readonly prefix: string;
  /** The S3 endpoint used; null for AWS. */
  readonly endpoint: string | null;
  /** Files to embed found in the folder. */
  readonly files: number;
  readonly uploaded: number;
  readonly metadata_sidecars: number;
  readonly embedded: number;
  /** Error records and failed uploads by error code. */
  readonly errors: Readonly<Record<string, number>>;
  /** Each error record and failed upload, by key. */
  readonly failed: readonly IngestFailure[];
  /** Not uploaded: paths (relative to the folder) of unsupported and mixed-case types; counts of hidden entries and earlier outputs. */
  readonly skipped: FolderPlan['skipped'];
  /** Keys with no outcome when the time ran out (uploaded or not). */
  readonly pending: readonly string[];
  readonly timed_out: boolean;
  readonly seconds: number;
  /** Files with an outcome (embedded or error) per second, from the start (uploads included). */
  readonly files_per_second: number;
}

function count(total: number, singular: string, plural = `${singular}s`): string {
  return `${total} ${total === 1 ? singular : plural}`;
}

function countByCode(failures: readonly IngestFailure[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const failure of failures) counts[failure.code] = (counts[failure.code] ?? 0) + 1;
  return counts;
}

/** Paths by extension, most first: `.pdf 3, .exe 1`. Pure. */
function byExtension(paths: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const path of paths) {
    const extension = extensionOf(path) || 'no extension';
    counts.set(extension, (counts.get(extension) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([extension, total]) => `${extension} ${total}`)
    .join(', ');
}

/** The summary for people (stdout without `--json`): the first `listLimit` failures and pending keys by name. Pure. */
export function formatSummary(summary: IngestSummary, listLimit = 20): string {
  const lines = [
    `${summary.timed_out ? 'Timed out ingesting' : 'Ingested'} ${count(summary.files, 'file')} into s3://${summary.bucket}/${summary.prefix} in ${summary.seconds} s (${summary.files_per_second} files/s)`,
    `  embedded  ${summary.embedded}`,
  ];
  const codes = Object.entries(summary.errors).sort((a, b) => b[1] - a[1]);
  lines.push(
    `  errors    ${summary.failed.length}${codes.length ? `: ${codes.map(([code, total]) => `${code} ${total}`).join(', ')}` : ''}`,
  );
  for (const failure of summary.failed.slice(0, listLimit)) lines.push(`    ${failure.key}  ${failure.code}  ${failure.message}`);
  if (summary.failed.length > listLimit) lines.push(`    ... and ${summary.failed.length - listLimit} more (--json lists them all)`);
  const { skipped } = summary;
  const skips = [
    skipped.unsupported.length ? `${skipped.unsupported.length} unsupported type (${byExtension(skipped.unsupported)})` : '',
    skipped.mixed_case.length
      ? `${skipped.mixed_case.length} mixed-case extension (${byExtension(skipped.mixed_case)}: S3 notifications miss them; rename, or run \`vectorizer sync\`)`
      : '',
    skipped.hidden ? `${skipped.hidden} hidden` : '',
    skipped.outputs ? count(skipped.outputs, 'earlier output') : '',
  ].filter(Boolean);
  lines.push(`  skipped   ${skips.length ? skips.join(', ') : '0'}`);
  if (summary.metadata_sidecars) lines.push(`  metadata  ${count(summary.metadata_sidecars, 'sidecar')} uploaded`);
  if (summary.pending.length) {
    lines.push(`  pending   ${summary.pending.length} (no output yet):`);
    for (const key of summary.pending.slice(0, listLimit)) lines.push(`    ${key}`);
    if (summary.pending.length > listLimit) lines.push(`    ... and ${summary.pending.length - listLimit} more (--json lists them all)`);
  }
  return lines.join('\n');
}

/** The progress line on stderr. Pure. */
export function ingestProgressText(progress: {
  files: number;
  uploaded: number;
  embedded: number;
  errors: number;
  seconds: number;
}): string {
  const done = progress.embedded + progress.errors;
  const ratio = progress.files ? done / progress.files : 1;
  return `ingest ${progressBar(ratio)} ${done}/${progress.files} done (${progress.embedded} embedded, ${count(progress.errors, 'error')}), ${progress.uploaded}/${progress.files} uploaded, ${Math.round(progress.seconds)} s`;
}

/** Where the files go. */
interface Target {
  readonly s3: S3Config;
  readonly bucket: string;
  /** npm start's emulator, chosen because nothing named another. */
  readonly local: boolean;
}

/**
 * With AWS_ENDPOINT_URL(_S3) set, that endpoint (an emulator, LocalStack); without it and without
 * `--bucket`, npm start's emulator on 127.0.0.1 (LOCAL_AWS_PORT) with any credentials; with
 * `--bucket` alone, AWS, with the SDK's usual credentials and region.
 */
function resolveTarget(config: S3Config, env: CliIo['env'], bucket: string | undefined): Target {
  if (config.endpoint) {
    return { s3: { ...config, region: config.region ?? 'us-east-1' }, bucket: bucket ?? LOCAL_STACK_BUCKET, local: false };
  }
  if (bucket) return { s3: config, bucket, local: false };
  return {
    s3: {
      ...config,
      endpoint: `http://127.0.0.1:${env.LOCAL_AWS_PORT || LOCAL_STACK_PORT}`,
      forcePathStyle: true,
      region: config.region ?? 'us-east-1',
      credentials: config.credentials ?? { accessKeyId: 'local', secretAccessKey: 'local' },
    },
    bucket: LOCAL_STACK_BUCKET,
    local: true,
  };
}

/** A progress line on stderr: redrawn in place on a terminal, else one line every few seconds. */
function progressReporter(io: CliIo) {
  const tty = (io.stderr as { isTTY?: boolean }).isTTY === true;
  let lastLogged = Date.now();
  return {
    show(text: string, final = false): void {
      if (tty) io.stderr.write(`\r${text}\x1b[K${final ? '\n' : ''}`);
      else if (final || Date.now() - lastLogged >= LOG_EVERY_MS) {
        io.stderr.write(`${text}\n`);
        lastLogged = Date.now();
      }
    },
  };
}

interface IngestRun {
  readonly root: string;
  readonly plan: FolderPlan;
  readonly prefix: string;
  readonly bucket: string;
  readonly pipeline: PipelineConfig;
  readonly concurrency: number;
  /** Date.now() after which no upload starts and the waiting ends. */
  readonly deadline: number;
}

/**
 * Uploads the plan's files (sidecars first, so a source's first embedding has its metadata) while
 * it checks for their outputs, until every file has one or the deadline passes.
 */
async function uploadAndWait(
  s3: S3Client,
  run: IngestRun,
  onProgress: (progress: Parameters<typeof ingestProgressText>[0]) => void,
  onCheckFailed: (error: unknown) => void,
) {
  const started = performance.now();
  const seconds = () => Math.round((performance.now() - started) / 100) / 10;
  const files: IngestedFile[] = run.plan.sources.map((path) => ({ key: `${run.prefix}${path}`, seen: {} }));
  /** Sidecars that did not upload (a source's failed upload is its outcome). */
  const failedSidecars: IngestFailure[] = [];
  let uploaded = 0;
  let uploadedSidecars = 0;
  const upload = async (key: string, path: string): Promise<{ etag: string } | IngestFailure> => {
    try {
      return { etag: await uploadFile(s3, { bucket: run.bucket, key }, join(run.root, path)) };
    } catch (error) {
      return { key, code: toVectorizerError(error).code, message: describeFailure(error), stage: 'upload' };
    }
  };
  let uploadsDone = false;
  // No upload starts after the deadline: those files are reported pending.
  const uploading = (async () => {
    await inLanes(run.plan.sidecars, run.concurrency, async (path) => {
      if (Date.now() >= run.deadline) return;
      const result = await upload(`${run.prefix}${path}`, path);
      if ('etag' in result) uploadedSidecars++;
      else failedSidecars.push(result);
    });
    const pairs = files.map((file, index) => ({ file, path: run.plan.sources[index] }));
    await inLanes(pairs, run.concurrency, async ({ file, path }) => {
      if (Date.now() >= run.deadline) return;
      const result = await upload(file.key, path);
      if ('etag' in result) {
        file.etag = result.etag;
        uploaded++;
      } else file.outcome = { status: 'error', failure: result };
    });
  })().finally(() => {
    uploadsDone = true;
  });

  const watcher = outputWatcher(s3, run.pipeline, run.bucket);
  const waiting = () => files.filter((file) => !file.outcome);
  const embeddedCount = () => files.filter((file) => file.outcome?.status === 'embedded').length;
  const progress = () => {
    const embedded = embeddedCount();
    return { files: files.length, uploaded, embedded, errors: files.length - waiting().length - embedded, seconds: seconds() };
  };
  let timedOut = false;
  for (;;) {
    const uploadsWereDone = uploadsDone;
    const ready = waiting().filter((file) => file.etag !== undefined);
    // A failed round (S3 throttling, a blip) is tried again at the next one; the deadline still holds.
    if (ready.length) await watcher.check(ready).catch(onCheckFailed);
    onProgress(progress());
    if (uploadsWereDone && waiting().length === 0) break;
    if (Date.now() >= run.deadline) {
      timedOut = true;
      break;
    }
    await new Promise((wake) => setTimeout(wake, waiting().length <= DIRECT_CHECKS ? 500 : 1000));
  }
  // Uploads in flight at the deadline finish (none start after it), so the process ends cleanly.
  await uploading;
  const failed = [...failedSidecars, ...files.flatMap((file) => (file.outcome?.status === 'error' ? [file.outcome.failure] : []))];
  return {
    files: files.length,
    uploaded,
    uploadedSidecars,
    embedded: embeddedCount(),
    failed: failed.sort((a, b) => a.key.localeCompare(b.key)),
    pending: waiting().map((file) => file.key),
    timedOut,
    seconds: seconds(),
  };
}

/**
 * `vectorizer ingest DIR`: uploads a folder (recursively) to the input bucket, `--concurrency`
 * files at a time, and waits for each file's `<key>.vectors.json` or `<key>.error.json` of this
 * upload, with a progress bar on stderr; then the summary on stdout (`--json`: one object).
 * Hidden files, the pipeline's own outputs and types it does not embed are not uploaded (no
 * notification would come for them). Exit code 0 when every file was embedded, 1 on an error
 * record, a failed upload or the timeout, 2 on a usage error.
 */
export async function runIngest(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(
    args,
    {
      bucket: { type: 'string' },
      prefix: { type: 'string', default: '' },
      timeout: { type: 'string', default: String(DEFAULT_TIMEOUT_SECONDS) },
      concurrency: { type: 'string', default: String(DEFAULT_CONCURRENCY) },
      json: { type: 'boolean', default: false },
    },
    io,
  );
  if (!parsed) return 2;
  const usageError = (message: string) => {
    io.stderr.write(`vectorizer ingest: ${message}\nUsage: ${USAGE}\n`);
    return 2;
  };
  if (parsed.positionals.length !== 1) {
    return usageError(parsed.positionals.length ? `one folder expected, got ${parsed.positionals.length}.` : 'a folder (DIR) is required.');
  }
  const root = resolve(parsed.positionals[0]);
  if (!(await stat(root).catch(() => undefined))?.isDirectory()) {
    return usageError(`${JSON.stringify(parsed.positionals[0])} is not a folder.`);
  }
  const timeoutSeconds = Number(parsed.values.timeout);
  const concurrency = Number(parsed.values.concurrency);
  if (!(timeoutSeconds > 0)) return usageError(`--timeout ${JSON.stringify(parsed.values.timeout)} must be a number of seconds > 0.`);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    return usageError(`--concurrency ${JSON.stringify(parsed.values.concurrency)} must be an integer >= 1.`);
  }
  if (parsed.values.bucket === '') return usageError('--bucket must not be empty.');
  const json = parsed.values.json === true;

  let s3: S3Client | undefined;
  try {
    const started = performance.now();
    const config = loadConfig(io.env, { modelId: DEFAULT_MODEL_ID });
    const target = resolveTarget(config.s3, io.env, parsed.values.bucket as string | undefined);
    const { bucket } = target;
    const endpoint = target.s3.endpoint ?? null;
    const prefix = folderPrefix(parsed.values.prefix as string);
    const plan = await planFolder(root, config.pipeline);
    const { skipped } = plan;
    const notUploaded = skipped.unsupported.length + skipped.mixed_case.length + skipped.hidden + skipped.outputs;
    io.stderr.write(
      `ingest: ${count(plan.sources.length, 'file')}${plan.sidecars.length ? ` and ${count(plan.sidecars.length, 'metadata sidecar')}` : ''}` +
        ` from ${root} to s3://${bucket}/${prefix} (${endpoint ?? 'AWS'}${target.local ? ', the local stack' : ''})` +
        `${notUploaded ? `; ${notUploaded} not uploaded (see the summary)` : ''}\n`,
    );

    s3 = await createS3Client(target.s3);
    const { HeadBucketCommand } = await loadS3Sdk();
    try {
      await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    } catch (error) {
      const failure = toS3Error(error, { bucket, key: '' }, 'read');
      const hint = target.local ? ' Is `npm start` running? (For another S3, set AWS_ENDPOINT_URL, or --bucket for AWS.)' : '';
      io.stderr.write(`vectorizer ingest: cannot use s3://${bucket} at ${endpoint ?? 'AWS'}: ${describeFailure(failure)}${hint}\n`);
      if (json) io.stdout.write(`${JSON.stringify(toErrorBody(failure))}\n`);
      return 1;
    }

    const reporter = progressReporter(io);
    const outcome = await uploadAndWait(
      s3,
      { root, plan, prefix, bucket, pipeline: config.pipeline, concurrency, deadline: Date.now() + timeoutSeconds * 1000 },
      (progress) => reporter.show(ingestProgressText(progress), false),
      (error) => io.stderr.write(`\nvectorizer ingest: checking the outputs failed, trying again: ${describeFailure(error)}\n`),
    );
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    const errors = outcome.failed.length;
    reporter.show(ingestProgressText({ ...outcome, errors, seconds }), true);
    const summary: IngestSummary = {
      bucket,
      prefix,
      endpoint,
      files: outcome.files,
      uploaded: outcome.uploaded,
      metadata_sidecars: outcome.uploadedSidecars,
      embedded: outcome.embedded,
      errors: countByCode(outcome.failed),
      failed: outcome.failed,
      skipped,
      pending: outcome.pending,
      timed_out: outcome.timedOut,
      seconds,
      files_per_second: seconds > 0 ? Math.round(((outcome.embedded + errors) / seconds) * 10) / 10 : 0,
    };
    if (outcome.timedOut) {
      io.stderr.write(
        `vectorizer ingest: ${count(summary.pending.length, 'file')} still without an output after --timeout ${timeoutSeconds} s` +
          `${target.local ? ' (is `npm start` still running, and do its notifications cover this type?)' : ' (do the bucket notifications reach the worker?)'}.\n`,
      );
    }
    io.stdout.write(json ? `${JSON.stringify(summary)}\n` : `${formatSummary(summary)}\n`);
    return errors > 0 || outcome.timedOut ? 1 : 0;
  } catch (error) {
    io.stderr.write(`\nvectorizer ingest: ${describeFailure(error)}\n`);
    if (json) io.stdout.write(`${JSON.stringify(toErrorBody(toVectorizerError(error)))}\n`);
    return 1;
  } finally {
    s3?.destroy();
  }
}
