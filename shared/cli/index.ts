import { parseArgs } from 'node:util';
import { runDownload } from './download.ts';
import { runInvoke } from './invoke.ts';
import type { CliIo } from './io.ts';
import { runListModels } from './list-models.ts';

const USAGE = `Usage: vectorizer <command> [options]

Commands:
  invoke --payload FILE|-            Run the invoke handler in-process on a request (JSON file, or - for stdin)
                                     with the same environment variables as the Lambda (MODEL_ID, MODEL_DIR, ...).
  list-models [--format table|markdown|json] [--category text|image|sparse|rerank|all]
                                     Print the model catalog.
  start [--aws-port 4566] [--invoke-port 9000] [--resources localstack/resources.json] [--external-aws URL]
                                     Run the whole pipeline locally (S3+SQS emulator, notifications,
                                     worker, Lambda Invoke API) until Ctrl-C. Model from MODEL_ID /
                                     MODEL_DIR, default Xenova/bge-small-en-v1.5 (downloaded once).
                                     --external-aws http://127.0.0.1:4566 uses LocalStack instead.
  download [--model ID] [--file F] [--dir DIR] [--revision R] [--checksums FILE]
                                     Download a catalog model into a folder (hub: HF_ENDPOINT).
  warmup                             Load the configured model and serve one sample request (image builds).
  bench [--quick] [--models DIR | --model-dir DIR --type T --file F] [--size N] [--rounds R]
                                     Benchmark against transformers.js, fastembed and the ONNX Runtime floor.
  help                               Show this text.
`;

type Command = (args: string[], io: CliIo) => Promise<number>;

const COMMANDS: Readonly<Record<string, Command>> = Object.freeze({
  invoke: runInvoke,
  'list-models': runListModels,
  // Loaded on use: the local stack needs fauxqs, a development dependency absent from the Lambda image.
  start: async (args, io) => (await import('./start.ts')).runStart(args, io),
  download: runDownload,
  warmup: async (args, io) => (await import('./warmup.ts')).runWarmup(args, io),
  bench: async (args, io) => (await import('./bench.ts')).runBenchCommand(args, io),
});

/** Runs one CLI command; returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    io.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(
      `vectorizer: unknown command ${JSON.stringify(name)}; expected one of ${Object.keys(COMMANDS).join(', ')}.\n\n${USAGE}`,
    );
    return 2;
  }
  return command(rest, io);
}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean }>;

/** parseArgs with strict options; a usage error is written out and gives undefined (exit code 2). */
export function parseOptions(args: string[], options: OptionSpec, io: CliIo): Record<string, string | boolean | undefined> | undefined {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    io.stderr.write(`vectorizer: ${(error as Error).message}\n`);
    return undefined;
  }
}
