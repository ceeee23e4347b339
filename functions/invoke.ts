/**
 * The synchronous invoke handler: direct Lambda invocations with the request schema, and API
 * Gateway / Function URL events. The model, engine and S3 client are built once, at cold start.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { loadConfig } from '../shared/config.ts';
import { logger } from '../shared/logger.ts';
import { handleInvokeEvent } from '../shared/request/invoke-event.ts';
import { createRuntime } from '../shared/runtime.ts';

const runtime = await createRuntime(loadConfig(process.env));

export const handler = middy()
  .use(injectLambdaContext(logger))
  .handler((event: unknown) => handleInvokeEvent(event, runtime.context));
