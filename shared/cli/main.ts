#!/usr/bin/env node
/**
 * The deployable's CLI (compiled into the image: Dockerfile.variant runs `download` and `warmup`).
 * The development commands (`start`, `bench`) are not part of the image: bin/vectorizer.ts adds them.
 */
import { sendLogsToStderr } from '../log-destination.ts';
import { PRODUCT_COMMANDS, runCli } from './index.ts';

sendLogsToStderr();

process.exitCode = await runCli(process.argv.slice(2), process, PRODUCT_COMMANDS);
