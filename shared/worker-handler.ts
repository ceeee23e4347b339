import type { Writable } from 'node:stream';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger } from './logger.ts';
import { metricsFor } from './metrics.ts';
import { createSqsBatchHandler } from './pipeline/worker.ts';
import type { Services } from './services.ts';

/**
 * The SQS worker handler over the process's services, with its middleware (functions/worker.ts,
 * the local stack). `metricsOutput`: where its EMF metrics go, when metrics are on (tests read them).
 */
export async function createWorkerHandler(services: Services, options: { metricsOutput?: Writable } = {}) {
  const metrics = await metricsFor(services, 'worker', options.metricsOutput);
  const processBatch = createSqsBatchHandler({ ...services, metrics });
  return middy<SQSEvent, SQSBatchResponse>()
    .use(services.tracing.middleware())
    .use(injectLambdaContext(logger))
    .use(metrics.middleware())
    .handler((event: SQSEvent, context) => processBatch(event, context));
}
