/**
 * Lambda entry of the synchronous invoke handler: direct invocations with the request schema, and
 * API Gateway / Function URL events. The model, engine and S3 client are built once, at cold
 * start (top-level await runs in Lambda's init phase). The model starts loading (on its own
 * thread) before the handler's modules are imported, so the two overlap.
 */
import { loadConfig } from '../shared/config.ts';
import { createServices } from '../shared/services.ts';

const services = createServices(loadConfig(process.env));
const { createInvokeHandler } = await import('../shared/invoke-handler.ts');
export const handler = await createInvokeHandler(await services);
