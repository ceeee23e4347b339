/**
 * The SQS worker: S3 ObjectCreated notifications and job messages in, `<key>.vectors.json` (or an
 * error record) out, with partial batch responses. Same image and engines as the invoke handler.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { loadConfig } from '../shared/config.ts';
import { logger } from '../shared/logger.ts';
import { createPipelineEmbedder } from '../shared/pipeline/embedder.ts';
import { createSqsBatchHandler } from '../shared/pipeline/worker.ts';
import { createRuntime } from '../shared/runtime.ts';

const runtime = await createRuntime(loadConfig(process.env));
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

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger))
  .handler((event: SQSEvent) => processBatch(event));
