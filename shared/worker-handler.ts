import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger } from './logger.ts';
import { createSqsBatchHandler } from './pipeline/worker.ts';
import type { Services } from './services.ts';

/** The SQS worker handler over the process's services, with its middleware (functions/worker.ts, the local stack). */
export function createWorkerHandler(services: Services) {
  const processBatch = createSqsBatchHandler(services);
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger))
    .handler((event: SQSEvent, context) => processBatch(event, context));
}
