import type { Writable } from 'node:stream';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { logger } from './logger.ts';
import { metricsFor } from './metrics.ts';
import { handleInvokeEvent } from './request/invoke-event.ts';
import type { Services } from './services.ts';

/**
 * The invoke handler over the process's services, with its middleware. functions/invoke.ts builds
 * it for Lambda; the local stack and the CLI build the same thing. Apart from the worker's
 * (worker-handler.ts), so the invoke path does not load the pipeline's modules.
 */
export async function createInvokeHandler(services: Services, options: { metricsOutput?: Writable } = {}) {
  const metrics = await metricsFor(services, 'invoke', options.metricsOutput);
  return middy()
    .use(services.tracing.middleware())
    .use(injectLambdaContext(logger))
    .use(metrics.middleware())
    .handler((event: unknown) => handleInvokeEvent(event, { ...services, metrics }));
}
