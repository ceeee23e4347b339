/**
 * Lambda entry of the synchronous invoke handler: direct invocations with the request schema, and
 * API Gateway / Function URL events. The model, engine and S3 client are built once, at cold
 * start (top-level await runs in Lambda's init phase).
 */
import { loadConfig } from '../shared/config.ts';
import { createInvokeHandler } from '../shared/handlers.ts';
import { createRuntime } from '../shared/runtime.ts';

export const handler = createInvokeHandler(await createRuntime(loadConfig(process.env)));
