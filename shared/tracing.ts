/**
 * X-Ray tracing with Powertools Tracer, when asked for (`POWERTOOLS_TRACE_ENABLED=true`, which the
 * deploy's `--param tracing=true` sets with X-Ray active): a segment per invocation, and a
 * subsegment per S3 and SQS call. Off by default, and then Tracer (and the X-Ray SDK under it) is
 * not even loaded: they are a cold-start cost only the ones who read traces should pay.
 */
import type { TracingConfig } from './config.ts';

/** A client of the AWS SDK v3 (what `captureAWSv3Client` instruments). */
type AwsClient = { middlewareStack: unknown };

export interface Tracing {
  /** The middy middleware of a handler: the invocation's segment, its errors and response. */
  middleware(): { before?: () => void; after?: () => void; onError?: () => void };
  /** The client, its calls traced as subsegments. */
  instrument<Client extends AwsClient>(client: Client): Client;
}

export const NO_TRACING: Tracing = Object.freeze({
  // middy takes no empty middleware.
  middleware: () => ({ after: () => undefined }),
  instrument: <Client extends AwsClient>(client: Client) => client,
});

export async function createTracing(config: TracingConfig): Promise<Tracing> {
  if (!config.enabled) return NO_TRACING;
  const [{ Tracer }, { captureLambdaHandler }] = await Promise.all([
    import('@aws-lambda-powertools/tracer'),
    import('@aws-lambda-powertools/tracer/middleware'),
  ]);
  const tracer = new Tracer({ serviceName: 'serverless-vectorizer' });
  return {
    middleware: () => captureLambdaHandler(tracer) as ReturnType<Tracing['middleware']>,
    instrument: (client) => tracer.captureAWSv3Client(client as never) as typeof client,
  };
}
