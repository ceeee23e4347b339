import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger } from './logger.ts';
import { createPipelineEmbedder } from './pipeline/embedder.ts';
import { createSqsBatchHandler } from './pipeline/worker.ts';
import { handleInvokeEvent } from './request/invoke-event.ts';
import type { Runtime } from './runtime.ts';

/**
 * The invoke handler over a runtime, with its middleware. functions/invoke.ts builds it for
 * Lambda; the local stack and the CLI build the same thing.
 */
export function createInvokeHandler(runtime: Runtime) {
  return middy()
    .use(injectLambdaContext(logger))
    .handler((event: unknown) => handleInvokeEvent(event, runtime.context));
}

/** The SQS worker handler over a runtime, with its middleware. */
export function createWorkerHandler(runtime: Runtime) {
  const processBatch = createSqsBatchHandler(
    {
      s3: runtime.s3,
      embedder: createPipelineEmbedder(runtime.engine),
      spec: runtime.spec,
      pipeline: runtime.config.pipeline,
      limits: runtime.config.limits,
      logger,
    },
    runtime.context,
  );
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger))
    .handler((event: SQSEvent) => processBatch(event));
}
