#!/usr/bin/env node
/**
 * The `vectorizer` command of a clone: the deployable's commands (shared/cli/) and the development
 * tooling, which lives outside the deployable: `start` (local/) and `bench` (bench/), loaded on use.
 */
import { type Command, PRODUCT_COMMANDS, runCli } from '../shared/cli/index.ts';
import { sendLogsToStderr } from '../shared/log-destination.ts';

// stdout is a command's result alone (`vectorizer invoke ... | jq`); logs go to stderr.
sendLogsToStderr();

const DEVELOPMENT_COMMANDS: Readonly<Record<string, Command>> = Object.freeze({
  start: {
    usage: `start [--aws-port 4566] [--invoke-port 9000] [--resources localstack/resources.json] [--external-aws URL]
        [--data-dir DIR | --ephemeral]
                                     Run the whole pipeline locally (S3+SQS emulator, notifications,
                                     worker, Lambda Invoke API) until Ctrl-C. Model from MODEL_ID /
                                     MODEL_DIR, default Xenova/bge-small-en-v1.5 (downloaded once).
                                     --external-aws http://127.0.0.1:4566 uses LocalStack instead. Objects and
                                     messages survive a restart (~/.cache/serverless-vectorizer/local-stack).`,
    run: async (args, io) => (await import('../local/command.ts')).runStart(args, io),
  },
  bench: {
    usage: `bench [--quick] [--models DIR | --model-dir DIR --type T --file F] [--size N] [--rounds R]
                                     Benchmark against transformers.js, fastembed and the ONNX Runtime floor.`,
    run: async (args, io) => (await import('../bench/command.ts')).runBenchCommand(args, io),
  },
});

process.exitCode = await runCli(process.argv.slice(2), process, { ...PRODUCT_COMMANDS, ...DEVELOPMENT_COMMANDS });
