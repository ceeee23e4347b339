import { parseArgs } from 'node:util';
import type { CliIo } from './io.ts';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean; multiple?: boolean }>;

/** parseArgs with strict options; a usage error is written out and gives undefined (exit code 2). */
export function parseOptions(args: string[], options: OptionSpec, io: CliIo): Record<string, string | boolean | undefined> | undefined {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false, allowNegative: true }).values as Record<
      string,
      string | boolean | undefined
    >;
  } catch (error) {
    io.stderr.write(`vectorizer: ${(error as Error).message}\n`);
    return undefined;
  }
}

/** parseOptions for commands that also take positional arguments (`vectorizer search "query"`). */
export function parseCommand(
  args: string[],
  options: OptionSpec,
  io: CliIo,
): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } | undefined {
  try {
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: true });
    return { values: values as Record<string, string | boolean | string[] | undefined>, positionals };
  } catch (error) {
    io.stderr.write(`vectorizer: ${(error as Error).message}\n`);
    return undefined;
  }
}
