/**
 * Lambda entry of the SQS worker: S3 ObjectCreated notifications and job messages in,
 * `<key>.vectors.json` (or an error record) out, with partial batch responses. Same image, model
 * and engines as the invoke handler; built once, at cold start, the model loading while the
 * handler's modules are imported.
 */
import { loadConfig } from '../shared/config.ts';
import { createServices } from '../shared/services.ts';

const services = createServices(loadConfig(process.env));
const { createWorkerHandler } = await import('../shared/worker-handler.ts');
export const handler = await createWorkerHandler(await services);
