/**
 * Lambda entry of the SQS worker: S3 ObjectCreated notifications and job messages in,
 * `<key>.vectors.json` (or an error record) out, with partial batch responses. Same image, model
 * and engines as the invoke handler; built once, at cold start.
 */
import { loadConfig } from '../shared/config.ts';
import { createWorkerHandler } from '../shared/handlers.ts';
import { createRuntime } from '../shared/runtime.ts';

export const handler = createWorkerHandler(await createRuntime(loadConfig(process.env)));
