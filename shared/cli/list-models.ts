import { CATALOG } from '../models/catalog.ts';
import { formatModelList, LIST_FORMATS } from '../models/list-format.ts';
import { MODEL_TYPES } from '../models/types.ts';
import type { CliIo } from './io.ts';
import { parseOptions } from './options.ts';

const CATEGORIES = [...MODEL_TYPES, 'all'] as const;

/** `vectorizer list-models [--format table|markdown|json] [--category text|image|sparse|rerank|all]` */
export async function runListModels(args: string[], io: CliIo): Promise<number> {
  const values = parseOptions(
    args,
    { format: { type: 'string', short: 'f', default: 'table' }, category: { type: 'string', short: 'c', default: 'all' } },
    io,
  );
  if (!values) return 2;
  const format = values.format as string;
  const category = values.category as string;
  if (!(LIST_FORMATS as readonly string[]).includes(format)) {
    io.stderr.write(`vectorizer list-models: --format ${JSON.stringify(format)} is not one of ${LIST_FORMATS.join(', ')}.\n`);
    return 2;
  }
  if (!(CATEGORIES as readonly string[]).includes(category)) {
    io.stderr.write(`vectorizer list-models: --category ${JSON.stringify(category)} is not one of ${CATEGORIES.join(', ')}.\n`);
    return 2;
  }
  const entries = category === 'all' ? CATALOG : CATALOG.filter((entry) => entry.type === category);
  io.stdout.write(`${formatModelList(entries, format as (typeof LIST_FORMATS)[number])}\n`);
  return 0;
}
