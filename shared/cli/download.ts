import { readFile } from 'node:fs/promises';
import { toErrorBody, toVectorizerError } from '../errors.ts';
import { DEFAULT_MODEL_ID, findCatalogEntry } from '../models/catalog.ts';
import { downloadCatalogModel } from '../models/resolve.ts';
import type { CliIo } from './io.ts';
import { parseOptions } from './options.ts';
import { progressLine } from './progress.ts';

/**
 * `vectorizer download --model ID [--file F] [--dir DIR] [--revision R] [--checksums FILE]`:
 * fetches a catalog model's files into a folder (what Dockerfile.variant runs at build time).
 * Checksums: the hub's LFS sha256 is always checked; `--checksums` pins them (JSON {file: sha256}).
 */
export async function runDownload(args: string[], io: CliIo): Promise<number> {
  const values = parseOptions(
    args,
    {
      model: { type: 'string', default: io.env.MODEL_ID ?? DEFAULT_MODEL_ID },
      file: { type: 'string' },
      type: { type: 'string' },
      dir: { type: 'string', default: io.env.MODEL_DIR ?? 'model' },
      revision: { type: 'string', default: io.env.MODEL_REVISION ?? 'main' },
      checksums: { type: 'string' },
    },
    io,
  );
  if (!values) return 2;
  const id = values.model as string;
  const file = values.file as string | undefined;
  const entry =
    findCatalogEntry(id, file, values.type as string | undefined) ??
    (file ? findCatalogEntry(id, undefined, values.type as string | undefined) : undefined);
  if (!entry) {
    io.stderr.write(`vectorizer download: --model ${JSON.stringify(id)} is not in the catalog (see \`vectorizer list-models\`).\n`);
    return 2;
  }
  try {
    const expectedSha256 = values.checksums
      ? (JSON.parse(await readFile(values.checksums as string, 'utf8')) as Record<string, string>)
      : undefined;
    const manifest = await downloadCatalogModel(file ? { ...entry, file } : entry, {
      hubUrl: io.env.HF_ENDPOINT ?? 'https://huggingface.co',
      revision: values.revision as string,
      dir: values.dir as string,
      expectedSha256,
      onProgress: (progress) => io.stderr.write(`\r${progressLine(progress)}${progress.done ? '\n' : ''}`),
    });
    io.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
    return 0;
  } catch (error) {
    io.stderr.write(`\n${JSON.stringify(toErrorBody(toVectorizerError(error)))}\n`);
    return 1;
  }
}
