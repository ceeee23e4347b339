#!/usr/bin/env node
/**
 * The `vectorizer` command: `invoke` runs the Lambda handler in-process, `list-models` prints the
 * catalog. Each command lives in shared/cli/; this file only dispatches.
 */
import { runCli } from '../shared/cli/index.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
