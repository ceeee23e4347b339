import { loadConfig } from '../config.ts';
import { describeFailure } from '../errors.ts';
import { DEFAULT_MODEL_ID } from '../models/catalog.ts';
import type { SyncProgress } from '../pipeline/sync.ts';
import type { CliIo } from './io.ts';
import { parseOptions } from './options.ts';

function progressText(progress: SyncProgress): string {
  return `sync: ${progress.checked}/${progress.listed} checked, ${progress.embedded} embedded, ${progress.removed} removed, ${progress.current} current, ${progress.refused} refused, ${progress.failed} failed`;
}

/**
 * `vectorizer sync --bucket B [--prefix P] [--concurrency N] [--json]`: embeds what the index lacks
 * or holds at another etag and removes what the bucket no longer has (progress on stderr, the
 * summary on stdout). Same configuration as the worker; from a laptop, npm start's index.
 */
export async function runSync(args: string[], io: CliIo): Promise<number> {
  const values = parseOptions(
    args,
    {
      bucket: { type: 'string' },
      prefix: { type: 'string', default: '' },
      concurrency: { type: 'string', default: '4' },
      json: { type: 'boolean', default: false },
    },
    io,
  );
  if (!values) return 2;
  const concurrency = Number(values.concurrency);
  if (!values.bucket || !Number.isInteger(concurrency) || concurrency < 1) {
    io.stderr.write('vectorizer sync: --bucket B is required, and --concurrency must be an integer >= 1.\n');
    return 2;
  }
  try {
    const [{ createServices }, { syncBucket }] = await Promise.all([import('../services.ts'), import('../pipeline/sync.ts')]);
    const services = await createServices(
      loadConfig({ ...io.env, INDEX_SINK: io.env.INDEX_SINK ?? 'auto' }, { modelId: DEFAULT_MODEL_ID }),
    );
    const summary = await syncBucket(services, {
      bucket: values.bucket as string,
      prefix: values.prefix as string,
      concurrency,
      onProgress: (progress) => io.stderr.write(`\r${progressText(progress)}`),
    }).finally(() => services.dispose());
    io.stderr.write('\n');
    io.stdout.write(
      values.json ? `${JSON.stringify(summary)}\n` : `${progressText(summary).replace('sync: ', '')} in ${summary.seconds} s\n`,
    );
    return summary.failed > 0 ? 1 : 0;
  } catch (error) {
    io.stderr.write(`\nvectorizer sync: ${describeFailure(error)}\n`);
    return 1;
  }
}
