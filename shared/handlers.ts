import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger } from './logger.ts';
import { createSqsBatchHandler } from './pipeline/worker.ts';
import { handleInvokeEvent } from './request/invoke-event.ts';
import type { Services } from './services.ts';

/**
 * The invoke handler over the process's services, with its middleware. functions/invoke.ts builds
 * it for Lambda; the local stack and the CLI build the same thing.
 */
export function createInvokeHandler(services: Services) {
  return middy()
    .use(injectLambdaContext(logger))
    .handler((event: unknown) => handleInvokeEvent(event, services));
}

/** The SQS worker handler over the process's services, with its middleware. */
export function createWorkerHandler(services: Services) {
  const processBatch = createSqsBatchHandler(services);
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger))
    .handler((event: SQSEvent, context) => processBatch(event, context));
}
