import type { CliIo } from './io.ts';

/** One CLI command: its usage lines and what it runs (exit code out). */
export interface Command {
  readonly usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}

/**
 * The commands of the deployable: what the image build runs (download, warmup) and what a user of
 * the image needs. Each is loaded on use, so `list-models` never loads the model runtime.
 */
export const PRODUCT_COMMANDS: Readonly<Record<string, Command>> = Object.freeze({
  invoke: {
    usage: `invoke --payload FILE|- [--path P]  Run the invoke handler in-process on a request (JSON file, or - for stdin)
                                     with the same environment variables as the Lambda (MODEL_ID, MODEL_DIR, ...).
                                     --path /v1/embeddings, /embed, /embed_sparse, /rerank: the payload is that
                                     route's body (OpenAI, TEI) and the route's answer is printed; /info with no payload.`,
    run: async (args, io) => (await import('./invoke.ts')).runInvoke(args, io),
  },
  'list-models': {
    usage: `list-models [--format table|markdown|json] [--category text|image|sparse|rerank|all]
                                     Print the model catalog (json: every row's full contract).`,
    run: async (args, io) => (await import('./list-models.ts')).runListModels(args, io),
  },
  search: {
    usage: `search "query" [--top-k N] [--filter name=value ...] [--prefix P] [--bucket B] [--json]
                                     Search the vector index (INDEX_SINK; from a laptop, npm start's LanceDB index).`,
    run: async (args, io) => (await import('./search.ts')).runSearch(args, io),
  },
  sync: {
    usage: `sync --bucket B [--prefix P] [--concurrency N] [--json]
                                     Bring the index in line with a bucket: embed what it lacks or holds at an
                                     older etag, remove what the bucket no longer has (backfill, a new model).`,
    run: async (args, io) => (await import('./sync.ts')).runSync(args, io),
  },
  ingest: {
    usage: `ingest DIR [--bucket B] [--prefix P] [--timeout S] [--concurrency N] [--json]
                                     Upload a folder (npm start's bucket unless AWS_ENDPOINT_URL or --bucket say
                                     otherwise), wait for each file's vectors or error record, and sum them up.`,
    run: async (args, io) => (await import('./ingest.ts')).runIngest(args, io),
  },
  download: {
    usage: `download [--model ID] [--file F] [--dir DIR] [--revision R] [--checksums FILE]
                                     Download a catalog model into a folder (hub: HF_ENDPOINT).`,
    run: async (args, io) => (await import('./download.ts')).runDownload(args, io),
  },
  warmup: {
    usage: `warmup                             Load the configured model and serve one sample request (image builds).`,
    run: async (args, io) => (await import('./warmup.ts')).runWarmup(args, io),
  },
});

function usageOf(commands: Readonly<Record<string, Command>>): string {
  const lines = Object.values(commands).map((command) => `  ${command.usage}`);
  return `Usage: vectorizer <command> [options]\n\nCommands:\n${lines.join('\n')}\n  help                               Show this text.\n`;
}

/** Runs one CLI command of `commands`; returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo, commands: Readonly<Record<string, Command>>): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    io.stdout.write(usageOf(commands));
    return name ? 0 : 2;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    io.stderr.write(
      `vectorizer: unknown command ${JSON.stringify(name)}; expected one of ${Object.keys(commands).join(', ')}.\n\n${usageOf(commands)}`,
    );
    return 2;
  }
  return command.run(rest, io);
}
