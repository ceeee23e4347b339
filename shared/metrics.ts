/**
 * The product's CloudWatch metrics: Powertools Metrics, written as EMF through the function's log.
 * Every metric has the dimensions `service`, `function` (worker, invoke), `model` and `kind`, few
 * values each; `ErrorsByCode` adds `code`. Where metrics are off (anywhere but Lambda, by default)
 * the recorder records nothing and Powertools Metrics is not even loaded.
 */
import { Console } from 'node:console';
import type { Writable } from 'node:stream';
import type { MetricsConfig } from './config.ts';
import { logDestination } from './log-destination.ts';
import type { Services } from './services.ts';

export const COUNT_METRICS = [
  'DocumentsEmbedded',
  'DocumentErrors',
  'ChunksEmbedded',
  'TokensEmbedded',
  'ImagesEmbedded',
  'Retries',
  'DlqMoves',
  'BatchSize',
  'Requests',
  'RequestErrors',
] as const;
export const DURATION_METRICS = ['ModelRunTime', 'QueueToVectorLatency'] as const;
export type CountMetric = (typeof COUNT_METRICS)[number];
export type DurationMetric = (typeof DURATION_METRICS)[number];

/** What the handlers and the pipeline record; published at the end of each invocation. */
export interface MetricsRecorder {
  count(name: CountMetric, value?: number): void;
  duration(name: DurationMetric, milliseconds: number): void;
  /** One `ErrorsByCode` with the error's code as a dimension (published at once: errors are few). */
  errorCode(code: string): void;
  /** The middy middleware of a handler: a `ColdStart` on the first invocation, then publishes each invocation's metrics. */
  middleware(): { before?: () => void; after?: () => void; onError?: () => void };
}

export const NO_METRICS: MetricsRecorder = Object.freeze({
  count: () => undefined,
  duration: () => undefined,
  errorCode: () => undefined,
  // middy takes no empty middleware.
  middleware: () => ({ after: () => undefined }),
});

export interface MetricDimensions {
  readonly function: 'worker' | 'invoke';
  readonly model: string;
  readonly kind: string;
}

/**
 * The recorder of one function. `modelRuns` gives the model's run times since the last call (each
 * becomes a `ModelRunTime`); `output` is where the EMF lines go: stdout on Lambda (its log), stderr
 * for the CLI and the local stack (their stdout is a result), or a test's stream.
 */
export async function createMetricsRecorder(
  config: MetricsConfig,
  dimensions: MetricDimensions,
  options: { modelRuns?: { drain(): number[] }; output?: Writable } = {},
): Promise<MetricsRecorder> {
  if (!config.enabled) return NO_METRICS;
  const output = options.output ?? (logDestination() === 'stderr' ? process.stderr : process.stdout);
  const { Metrics, MetricUnit } = await import('@aws-lambda-powertools/metrics');
  const create = () => {
    const metrics = new Metrics({
      namespace: config.namespace,
      serviceName: 'serverless-vectorizer',
      defaultDimensions: { ...dimensions },
    });
    // Powertools has no option for its stream (as with the logger): its console is replaced.
    (metrics as unknown as { console: Console }).console = new Console({ stdout: output, stderr: process.stderr });
    return metrics;
  };
  const metrics = create();
  // Apart from the invocation's metrics: a dimension added to one instance applies to all its metrics.
  const byCode = create();
  let cold = true;
  return {
    count: (name, value = 1) => metrics.addMetric(name, MetricUnit.Count, value),
    duration: (name, milliseconds) => metrics.addMetric(name, MetricUnit.Milliseconds, milliseconds),
    errorCode(code) {
      byCode.addDimension('code', code);
      byCode.addMetric('ErrorsByCode', MetricUnit.Count, 1);
      byCode.publishStoredMetrics();
    },
    middleware: () => ({
      before() {
        if (!cold) return;
        cold = false;
        metrics.addMetric('ColdStart', MetricUnit.Count, 1);
      },
      after: () => publish(),
      onError: () => publish(),
    }),
  };

  function publish(): void {
    for (const milliseconds of options.modelRuns?.drain() ?? []) metrics.addMetric('ModelRunTime', MetricUnit.Milliseconds, milliseconds);
    // Nothing recorded (an ignored event): no empty EMF line, and no Powertools warning about it.
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}

/** The recorder of a handler over the process's services (their model, kind and run times). */
export function metricsFor(
  services: Pick<Services, 'config' | 'model' | 'modelRuns'>,
  fn: MetricDimensions['function'],
  output?: Writable,
): Promise<MetricsRecorder> {
  const { model } = services;
  return createMetricsRecorder(
    services.config.metrics,
    { function: fn, model: model.id, kind: model.type },
    { modelRuns: services.modelRuns, ...(output ? { output } : {}) },
  );
}
