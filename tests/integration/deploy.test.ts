/**
 * The deployment path, offline: `serverless package` on serverless.yml with assertions on the
 * generated CloudFormation, and the Dockerfiles parsed against what the runtime reads.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { S3VECTORS_NON_FILTERABLE_KEYS } from '../../shared/index/s3vectors.ts';
import { findCatalogEntry } from '../../shared/models/catalog.ts';
import { IMAGE_EXTENSIONS, TEXT_EXTENSIONS } from '../../shared/pipeline/documents.ts';
import { REPO_DIR } from '../helpers/shared-dir.ts';

const DIGEST = `123456789012.dkr.ecr.us-east-1.amazonaws.com/serverless-vectorizer@sha256:${'ab'.repeat(32)}`;
type Template = {
  Resources: Record<string, { Type: string; Properties: Record<string, any>; DependsOn?: unknown; Condition?: string }>;
  Conditions?: Record<string, unknown>;
  Outputs?: Record<string, { Value: unknown }>;
};
const work: string[] = [];

/** Runs `serverless package` with these params into a fresh folder; returns the template or the error output. */
async function slsPackage(params: Record<string, string>): Promise<{ template?: Template; status: number | null; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'vectorizer-sls-'));
  work.push(dir);
  const run = spawnSync(
    join(REPO_DIR, 'node_modules', '.bin', 'serverless'),
    ['package', '--package', dir, ...Object.entries(params).flatMap(([key, value]) => ['--param', `${key}=${value}`])],
    {
      cwd: REPO_DIR,
      env: {
        ...process.env,
        SLS_TELEMETRY_DISABLED: '1',
        SLS_NOTIFICATIONS_MODE: 'off',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
      },
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  const file = join(dir, 'cloudformation-template-update-stack.json');
  return {
    status: run.status,
    output: run.stdout + run.stderr,
    template: existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined,
  };
}

function ofType(template: Template, type: string) {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

function statements(template: Template): { Effect: string; Action: string | string[]; Resource: unknown }[] {
  const found: { Effect: string; Action: string | string[]; Resource: unknown }[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      if (Array.isArray(record.Statement)) found.push(...(record.Statement as typeof found));
      Object.values(record).forEach(visit);
    }
  };
  visit(template.Resources);
  return found;
}

const asList = <T>(value: T | T[]) => (Array.isArray(value) ? value : [value]);

/** A reference in an Fn::Sub string: `sub('JobsQueue.QueueName')` is `${JobsQueue.QueueName}`. */
const sub = (name: string) => '${' + name + '}';
type MetricOptions = { id?: string; label?: string; stat?: string; expression?: string; visible?: boolean; yAxis?: string };
type Widget = {
  type: string;
  x: number;
  y: number;
  width: number;
  height: number;
  properties: {
    title: string;
    region?: string;
    metrics?: unknown[][];
    alarms?: string[];
    annotations?: { horizontal?: { label: string; value: number }[] };
  };
};
/** A line of a metric widget: namespace, metric name, dimension pairs, then an optional options object (or only an expression). */
type MetricLine = { namespace: string; name: string; dimensions: Record<string, string>; options: MetricOptions };
type AlarmMetric = {
  Id: string;
  ReturnData: boolean;
  Expression?: string;
  MetricStat?: {
    Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: string }[] };
    Period: number;
    Stat: string;
  };
};

/** The dashboard's body: the Fn::Sub string, the references it makes, and its widgets parsed as JSON. */
function dashboardOf(template: Template) {
  const dashboard = template.Resources.Dashboard;
  assert.equal(dashboard?.Type, 'AWS::CloudWatch::Dashboard');
  const text = dashboard.Properties.DashboardBody['Fn::Sub'];
  assert.equal(typeof text, 'string', 'DashboardBody is an Fn::Sub over a JSON string');
  const references = [...new Set([...(text as string).matchAll(/\$\{([^}]*)\}/g)].map((match) => match[1]))];
  const body = JSON.parse(text) as { widgets: Widget[] };
  return { name: dashboard.Properties.DashboardName as string, references, widgets: body.widgets };
}

/** The lines of every metric widget, with the widget's title. */
function metricLines(widgets: Widget[]): (MetricLine & { title: string })[] {
  return widgets
    .filter((widget) => widget.type === 'metric')
    .flatMap((widget) =>
      (widget.properties.metrics ?? []).map((line) => {
        const last = line.at(-1);
        const options = last && typeof last === 'object' ? (last as MetricOptions) : {};
        const parts = (options === last ? line.slice(0, -1) : line) as string[];
        const [namespace = '', name = '', ...pairs] = parts;
        const dimensions: Record<string, string> = {};
        for (let index = 0; index < pairs.length; index += 2) dimensions[pairs[index]] = pairs[index + 1];
        return { namespace, name, dimensions, options, title: widget.properties.title };
      }),
    );
}

/** Evaluates a condition made of Fn::Not, Fn::Equals and literals (what serverless leaves after resolving params). */
function evaluateCondition(condition: unknown): boolean {
  const record = condition as Record<string, unknown[]>;
  if (record['Fn::Not']) return !evaluateCondition(record['Fn::Not'][0]);
  if (record['Fn::Equals']) return record['Fn::Equals'][0] === record['Fn::Equals'][1];
  throw new Error(`unsupported condition ${JSON.stringify(condition)}`);
}

/** An alarm action list as CloudFormation would set it: Fn::If resolved, AWS::NoValue as undefined. */
function resolveActions(template: Template, value: unknown): unknown {
  const branches = (value as Record<string, [string, unknown, unknown]>)['Fn::If'];
  if (!branches) return value;
  const chosen = evaluateCondition(template.Conditions?.[branches[0]]) ? branches[1] : branches[2];
  return JSON.stringify(chosen) === JSON.stringify({ Ref: 'AWS::NoValue' }) ? undefined : chosen;
}

/** A CloudWatch metric-math expression of IF, FILL and arithmetic, evaluated on one data point (undefined: missing). */
function evaluateMetricMath(expression: string, values: Record<string, number | undefined>): number {
  assert.match(expression, /^[A-Za-z0-9_ ,.()+\-*/<>=]+$/, 'only IF, FILL, ids, numbers and operators');
  const names = Object.keys(values);
  const run = new Function('IF', 'FILL', ...names, `return ${expression};`);
  return run(
    (condition: boolean, then: number, otherwise: number) => (condition ? then : otherwise),
    (value: number | undefined, fill: number) => value ?? fill,
    ...names.map((name) => values[name]),
  );
}

const ALARM_IDS = ['DeadLetterQueueAlarm', 'ErrorRateAlarm', 'InvokeThrottlesAlarm', 'OldestMessageAgeAlarm', 'WorkerThrottlesAlarm'];
const WORKER_METRICS = [
  'DocumentsEmbedded',
  'DocumentErrors',
  'ChunksEmbedded',
  'TokensEmbedded',
  'ImagesEmbedded',
  'Retries',
  'DlqMoves',
  'ModelRunTime',
  'QueueToVectorLatency',
  'BatchSize',
  'ColdStart',
];
const INVOKE_METRICS = ['Requests', 'RequestErrors', 'TokensEmbedded', 'ImagesEmbedded', 'ModelRunTime', 'ColdStart'];

/**
 * The metrics contract on the dashboard: every custom metric in `namespace` with exactly the four dimensions
 * (ColdStart included), each worker and invoke metric shown, ErrorsByCode through a SEARCH.
 */
function assertDashboardMetrics(template: Template, { namespace, model, kind }: { namespace: string; model: string; kind: string }) {
  const { widgets } = dashboardOf(template);
  const lines = metricLines(widgets);
  const custom = lines.filter((line) => line.namespace === namespace);
  for (const line of custom) {
    assert.ok(['worker', 'invoke'].includes(line.dimensions.function), `${line.title}: ${line.name} of ${line.dimensions.function}`);
    assert.deepEqual(
      line.dimensions,
      { service: 'serverless-vectorizer', function: line.dimensions.function, model, kind },
      `${line.title}: ${line.name}`,
    );
  }
  const shown = (fn: string) => new Set(custom.filter((line) => line.dimensions.function === fn).map((line) => line.name));
  assert.deepEqual([...shown('worker')].sort(), [...WORKER_METRICS].sort());
  assert.deepEqual([...shown('invoke')].sort(), [...INVOKE_METRICS].sort());
  for (const line of lines.filter((candidate) => candidate.namespace && !candidate.namespace.startsWith('AWS/')))
    assert.equal(line.namespace, namespace, `${line.title}: ${line.name} under another namespace`);
  const coldStarts = custom.filter((line) => line.name === 'ColdStart');
  assert.deepEqual(
    coldStarts.map((line) => line.dimensions.function),
    ['worker', 'invoke'],
  );
  const searches = lines.map((line) => line.options.expression as string | undefined).filter((text) => text?.startsWith('SEARCH('));
  assert.deepEqual(searches, [
    `SEARCH('{"${namespace}",code,function,kind,model,service} MetricName="ErrorsByCode" service="serverless-vectorizer" model="${model}"', 'Sum', 300)`,
  ]);
}

/** The five alarms by logical id, each checked for notBreaching on missing data and a name with service and stage. */
function alarmsOf(template: Template) {
  const alarms = Object.fromEntries(ofType(template, 'AWS::CloudWatch::Alarm').map(([id, alarm]) => [id, alarm.Properties]));
  assert.deepEqual(Object.keys(alarms).sort(), ALARM_IDS);
  for (const [id, alarm] of Object.entries(alarms)) {
    assert.equal(alarm.TreatMissingData, 'notBreaching', id);
    assert.match(alarm.AlarmName, /^serverless-vectorizer-dev-/, id);
  }
  return alarms;
}

describe('deployment', () => {
  after(async () => {
    for (const dir of work) await rm(dir, { recursive: true, force: true });
  });

  test('serverless package: notifications, DLQ, batching, MODEL_ID, least privilege', async () => {
    const { template, status, output } = await slsPackage({ model: 'Xenova/bge-small-en-v1.5', image: DIGEST });
    assert.equal(status, 0, output);
    assert.ok(template);

    // The input bucket notifies the jobs queue, once per supported suffix in each case, for ObjectCreated and ObjectRemoved.
    const bucket = template.Resources.InputBucket.Properties;
    const rules = bucket.NotificationConfiguration.QueueConfigurations as {
      Event: string;
      Queue: unknown;
      Filter: { S3Key: { Rules: { Name: string; Value: string }[] } };
    }[];
    for (const event of ['s3:ObjectCreated:*', 's3:ObjectRemoved:*']) {
      assert.deepEqual(
        rules
          .filter((rule) => rule.Event === event)
          .map((rule) => rule.Filter.S3Key.Rules.find((r) => r.Name === 'suffix')?.Value)
          .sort(),
        // Lower and upper case: S3's suffix filters are case-sensitive (.jpg and .JPG).
        [...TEXT_EXTENSIONS, ...IMAGE_EXTENSIONS].flatMap((suffix) => [suffix, suffix.toUpperCase()]).sort(),
        event,
      );
    }
    assert.equal(rules.length, 2 * 2 * (TEXT_EXTENSIONS.length + IMAGE_EXTENSIONS.length));
    for (const rule of rules) assert.deepEqual(rule.Queue, { 'Fn::GetAtt': ['JobsQueue', 'Arn'] });

    // The vector bucket and the model's index: the model's dimension, cosine, its own name, the text not filterable.
    const indexName = findCatalogEntry('Xenova/bge-small-en-v1.5')?.indexName as string;
    assert.match(indexName, /^xenova-bge-small-en-v1-5-[0-9a-f]{8}$/);
    assert.deepEqual(template.Conditions?.UseS3Vectors, { 'Fn::Equals': ['s3vectors', 's3vectors'] });
    const vectorBucket = template.Resources.VectorBucket;
    assert.equal(vectorBucket.Type, 'AWS::S3Vectors::VectorBucket');
    assert.equal(vectorBucket.Condition, 'UseS3Vectors');
    assert.equal(vectorBucket.Properties.VectorBucketName, 'vectorizer-vectors-dev');
    const vectorIndex = template.Resources.VectorIndex;
    assert.equal(vectorIndex.Type, 'AWS::S3Vectors::Index');
    assert.deepEqual(
      { ...vectorIndex.Properties },
      {
        VectorBucketName: 'vectorizer-vectors-dev',
        IndexName: indexName,
        DataType: 'float32',
        Dimension: 384,
        DistanceMetric: 'cosine',
        MetadataConfiguration: { NonFilterableMetadataKeys: [...S3VECTORS_NON_FILTERABLE_KEYS] },
      },
    );
    assert.equal(bucket.BucketName, 'vectorizer-input-dev');
    assert.ok(
      asList(template.Resources.InputBucket.DependsOn).includes('JobsQueuePolicy'),
      'the queue policy exists before S3 validates the notification',
    );
    const queuePolicy = template.Resources.JobsQueuePolicy.Properties.PolicyDocument.Statement[0];
    assert.deepEqual(queuePolicy.Principal, { Service: 's3.amazonaws.com' });
    assert.equal(queuePolicy.Condition.ArnLike['aws:SourceArn'], 'arn:aws:s3:::vectorizer-input-dev');

    // Jobs queue: redrive to the DLQ, visibility >= 6 x the worker timeout.
    const queue = template.Resources.JobsQueue.Properties;
    assert.equal(queue.QueueName, 'vectorizer-jobs-dev');
    assert.deepEqual(queue.RedrivePolicy.deadLetterTargetArn, { 'Fn::GetAtt': ['JobsDeadLetterQueue', 'Arn'] });
    assert.equal(Number(queue.RedrivePolicy.maxReceiveCount), 3);
    assert.equal(template.Resources.JobsDeadLetterQueue.Properties.QueueName, 'vectorizer-jobs-dlq-dev');
    const worker = template.Resources.WorkerLambdaFunction.Properties;
    assert.ok(queue.VisibilityTimeout >= 6 * worker.Timeout);
    // The worker's own queue, where the parts of large documents go.
    assert.deepEqual(worker.Environment.Variables.WORK_QUEUE_URL, { Ref: 'JobsQueue' });

    // Worker: the SQS event source with its batch settings and partial batch responses.
    const [[, mapping]] = ofType(template, 'AWS::Lambda::EventSourceMapping');
    assert.deepEqual(mapping.Properties.EventSourceArn, { 'Fn::GetAtt': ['JobsQueue', 'Arn'] });
    assert.equal(mapping.Properties.BatchSize, 10);
    assert.equal(mapping.Properties.MaximumBatchingWindowInSeconds, 5);
    assert.deepEqual(mapping.Properties.FunctionResponseTypes, ['ReportBatchItemFailures']);
    assert.equal(mapping.Properties.ScalingConfig.MaximumConcurrency, 5);

    // Both functions: the pinned image, their own command, MODEL_ID from --param model, the model dir of the image.
    const invoke = template.Resources.InvokeLambdaFunction.Properties;
    for (const [fn, command] of [
      [invoke, 'dist/functions/invoke.handler'],
      [worker, 'dist/functions/worker.handler'],
    ] as const) {
      assert.equal(fn.PackageType, 'Image');
      assert.equal(fn.Code.ImageUri, DIGEST);
      assert.deepEqual(fn.ImageConfig.Command, [command]);
      assert.equal(fn.Environment.Variables.MODEL_ID, 'Xenova/bge-small-en-v1.5');
      assert.equal(fn.Environment.Variables.MODEL_DIR, '/opt/model');
      assert.equal(fn.Environment.Variables.INDEX_SINK, 's3vectors');
      assert.equal(fn.Environment.Variables.S3VECTORS_BUCKET, 'vectorizer-vectors-dev');
      assert.equal(fn.Environment.Variables.INDEX_NAME, indexName);
      assert.equal(fn.MemorySize, 2048);
      assert.deepEqual(fn.Architectures, ['x86_64']);
    }
    assert.equal(ofType(template, 'AWS::Lambda::Url').length, 0, 'no Function URL unless asked');

    // Least privilege: no Allow on "*" resources, no wildcard actions; writes only to output locations.
    const allows = statements(template).filter((statement) => statement.Effect === 'Allow');
    assert.ok(allows.length >= 4);
    for (const statement of allows) {
      for (const resource of asList(statement.Resource)) assert.notEqual(resource, '*', JSON.stringify(statement));
      for (const action of asList(statement.Action))
        assert.ok(action !== '*' && action !== 's3:*' && action !== 'sqs:*', JSON.stringify(statement));
    }
    const role = statements({ Resources: { role: template.Resources.IamRoleLambdaExecution } } as Template);
    const puts = role.filter((statement) => asList(statement.Action).includes('s3:PutObject'));
    assert.equal(puts.length, 1);
    assert.deepEqual(asList(puts[0].Resource), [{ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['InputBucket', 'Arn'] }, '/*']] }]);
    const sqsActions = role.filter((statement) => asList(statement.Action).some((action) => action.startsWith('sqs:')));
    assert.ok(sqsActions.length > 0);
    for (const statement of sqsActions)
      for (const resource of asList(statement.Resource)) assert.deepEqual(resource, { 'Fn::GetAtt': ['JobsQueue', 'Arn'] });
    // Sending is allowed on the jobs queue only (checked above): the worker queues the parts of large documents.
    assert.ok(
      role.some((statement) => asList(statement.Action).includes('sqs:SendMessage')),
      'the worker sends parts to its queue',
    );
    const deletes = role.filter((statement) => asList(statement.Action).includes('s3:DeleteObject'));
    assert.deepEqual(
      deletes.map((statement) => statement.Resource),
      [{ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['InputBucket', 'Arn'] }, '/*']] }],
    );
    const vectors = role.filter((statement) => asList(statement.Action).some((action) => action.startsWith('s3vectors:')));
    assert.equal(vectors.length, 1);
    assert.deepEqual(asList(vectors[0].Action).sort(), [
      's3vectors:DeleteVectors',
      's3vectors:GetVectors',
      's3vectors:ListVectors',
      's3vectors:PutVectors',
      's3vectors:QueryVectors',
    ]);
    assert.match(JSON.stringify(vectors[0].Resource), new RegExp(`:bucket/vectorizer-vectors-dev/index/${indexName}`));
  });

  test('parameters: memory, timeout, architecture, batching, DLQ count, prefix, output buckets, Function URL', async () => {
    const { template, status, output } = await slsPackage({
      model: 'Qdrant/clip-ViT-B-32-vision',
      image: DIGEST,
      memory: '3008',
      timeout: '300',
      architecture: 'arm64',
      batchSize: '25',
      maximumBatchingWindow: '10',
      maximumConcurrency: '20',
      maxReceiveCount: '5',
      inputPrefix: 'incoming/',
      outputBuckets: 'vectors-archive,vectors-search',
      functionUrl: 'true',
    });
    assert.equal(status, 0, output);
    assert.ok(template);
    const worker = template.Resources.WorkerLambdaFunction.Properties;
    assert.equal(worker.MemorySize, 3008);
    assert.equal(worker.Timeout, 300);
    assert.deepEqual(worker.Architectures, ['arm64']);
    assert.equal(worker.Environment.Variables.MODEL_ID, 'Qdrant/clip-ViT-B-32-vision');
    assert.equal(template.Resources.JobsQueue.Properties.VisibilityTimeout, 1800);
    assert.equal(Number(template.Resources.JobsQueue.Properties.RedrivePolicy.maxReceiveCount), 5);
    const [[, mapping]] = ofType(template, 'AWS::Lambda::EventSourceMapping');
    assert.equal(mapping.Properties.BatchSize, 25);
    assert.equal(mapping.Properties.MaximumBatchingWindowInSeconds, 10);
    assert.equal(mapping.Properties.ScalingConfig.MaximumConcurrency, 20);
    for (const rule of template.Resources.InputBucket.Properties.NotificationConfiguration.QueueConfigurations) {
      assert.deepEqual(rule.Filter.S3Key.Rules[0], { Name: 'prefix', Value: 'incoming/' });
    }
    const role = statements({ Resources: { role: template.Resources.IamRoleLambdaExecution } } as Template);
    const put = role.find((statement) => asList(statement.Action).includes('s3:PutObject'));
    assert.deepEqual(asList(put?.Resource).slice(1), ['arn:aws:s3:::vectors-archive/*', 'arn:aws:s3:::vectors-search/*']);
    const get = role.find((statement) => asList(statement.Action).includes('s3:GetObject'));
    assert.deepEqual(get?.Resource, { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['InputBucket', 'Arn'] }, '/incoming/*']] });
    assert.deepEqual(worker.Environment.Variables.OUTPUT_BUCKETS, {
      'Fn::Join': [',', [{ Ref: 'InputBucket' }, 'vectors-archive,vectors-search']],
    });
    const [[, url]] = ofType(template, 'AWS::Lambda::Url');
    assert.equal(url.Properties.AuthType, 'AWS_IAM');
    // An image model has dense vectors too: its own index, of its dimension.
    assert.equal(template.Resources.VectorIndex.Properties.Dimension, 512);
    assert.equal(template.Resources.VectorIndex.Properties.IndexName, findCatalogEntry('Qdrant/clip-ViT-B-32-vision')?.indexName);
    // The metrics' kind dimension is the catalog kind of the model.
    assertDashboardMetrics(template, { namespace: 'ServerlessVectorizer', model: 'Qdrant/clip-ViT-B-32-vision', kind: 'image' });
  });

  test('a Function URL for OpenAI/TEI clients: functionUrlAuth=apikey opens it to callers with a key, and insists on one', async () => {
    const digest = 'ab'.repeat(32);
    const { template, status, output } = await slsPackage({
      model: 'Xenova/bge-small-en-v1.5',
      image: DIGEST,
      functionUrl: 'true',
      functionUrlAuth: 'apikey',
      apiKeySha256: digest,
    });
    assert.equal(status, 0, output);
    assert.ok(template);
    const [[, url]] = ofType(template, 'AWS::Lambda::Url');
    assert.equal(url.Properties.AuthType, 'NONE');
    assert.equal(template.Resources.InvokeLambdaFunction.Properties.Environment.Variables.API_KEY_SHA256, digest);
    const withoutKey = await slsPackage({
      model: 'Xenova/bge-small-en-v1.5',
      image: DIGEST,
      functionUrl: 'true',
      functionUrlAuth: 'apikey',
    });
    assert.notEqual(withoutKey.status, 0);
    assert.match(withoutKey.output, /functionUrlAuth=apikey needs --param apiKeySha256/);
    const notADigest = await slsPackage({ model: 'Xenova/bge-small-en-v1.5', image: DIGEST, apiKeySha256: 'my-key' });
    assert.notEqual(notADigest.status, 0);
    assert.match(notADigest.output, /apiKeySha256: my-key is not a SHA-256 digest/);
  });

  test('tracing: off by default; --param tracing=true turns X-Ray on for both functions, with Tracer', async () => {
    const plain = await slsPackage({ model: 'Xenova/bge-small-en-v1.5', image: DIGEST });
    assert.equal(plain.status, 0, plain.output);
    for (const id of ['WorkerLambdaFunction', 'InvokeLambdaFunction']) {
      const fn: Record<string, any> | undefined = plain.template?.Resources[id].Properties;
      assert.notEqual(fn?.TracingConfig?.Mode, 'Active');
      assert.equal(String(fn?.Environment.Variables.POWERTOOLS_TRACE_ENABLED), 'false');
    }
    const traced = await slsPackage({ model: 'Xenova/bge-small-en-v1.5', image: DIGEST, tracing: 'true' });
    assert.equal(traced.status, 0, traced.output);
    const tracedTemplate = traced.template as Template;
    for (const id of ['WorkerLambdaFunction', 'InvokeLambdaFunction']) {
      const fn: Record<string, any> = tracedTemplate.Resources[id].Properties;
      assert.equal(fn.TracingConfig?.Mode, 'Active');
      assert.equal(String(fn.Environment.Variables.POWERTOOLS_TRACE_ENABLED), 'true');
    }
    const xray = statements({ Resources: { role: tracedTemplate.Resources.IamRoleLambdaExecution } } as Template).find((statement) =>
      asList(statement.Action).includes('xray:PutTraceSegments'),
    );
    assert.ok(xray, 'the role may send traces');
    const bad = await slsPackage({ model: 'Xenova/bge-small-en-v1.5', image: DIGEST, tracing: 'yes' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.output, /--param tracing=yes: expected true or false/);
  });

  test('a sparse model keeps no index: indexSink auto resolves to none', async () => {
    const { template, status, output } = await slsPackage({ model: 'Qdrant/Splade_PP_en_v1', image: DIGEST });
    assert.equal(status, 0, output);
    assert.ok(template);
    assert.deepEqual(template.Conditions?.UseS3Vectors, { 'Fn::Equals': ['none', 's3vectors'] });
    assert.equal(template.Resources.WorkerLambdaFunction.Properties.Environment.Variables.INDEX_SINK, 'none');
  });

  test('an image not pinned by digest is refused', async () => {
    const { status, output } = await slsPackage({
      model: 'Xenova/bge-small-en-v1.5',
      image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/vectorizer:latest',
    });
    assert.notEqual(status, 0);
    assert.match(output, /must be pinned by digest/);
  });

  test('Dockerfile and Dockerfile.variant: base image, args, model path and commands match the runtime', () => {
    const base = readFileSync(join(REPO_DIR, 'Dockerfile'), 'utf8');
    const variant = readFileSync(join(REPO_DIR, 'Dockerfile.variant'), 'utf8');
    const serverless = readFileSync(join(REPO_DIR, 'serverless.yml'), 'utf8');
    const instructions = (text: string) =>
      text
        .replace(/\\\n/g, ' ')
        .split('\n')
        .filter((line) => line.trim() && !line.trim().startsWith('#'))
        .map((line) => {
          const [keyword, ...rest] = line.trim().split(/\s+/);
          return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
        });
    const baseSteps = instructions(base);
    assert.match(baseSteps.find((step) => step.keyword === 'ARG')?.args ?? '', /^NODE_IMAGE=public\.ecr\.aws\/lambda\/nodejs:22$/);
    assert.deepEqual(
      baseSteps.filter((step) => step.keyword === 'FROM').map((step) => step.args),
      ['${NODE_IMAGE} AS build', '${NODE_IMAGE}'],
    );
    const cmd = JSON.parse(baseSteps.find((step) => step.keyword === 'CMD')?.args ?? '[]') as string[];
    assert.deepEqual(cmd, ['dist/functions/invoke.handler']);
    // The command's module is the compiled functions/invoke.ts (tsconfig.build.json: outDir dist).
    const build = JSON.parse(readFileSync(join(REPO_DIR, 'tsconfig.build.json'), 'utf8'));
    assert.equal(build.compilerOptions.outDir, 'dist');
    for (const name of ['invoke', 'worker']) assert.ok(existsSync(join(REPO_DIR, 'functions', `${name}.ts`)));
    assert.match(base, /npm prune --omit=dev/);
    assert.match(base, /onnxruntime-node\/bin/);

    const variantSteps = instructions(variant);
    assert.equal(variantSteps.find((step) => step.keyword === 'FROM')?.args, '${BASE_IMAGE}');
    const args = variantSteps.filter((step) => step.keyword === 'ARG').map((step) => step.args.split('=')[0]);
    for (const arg of ['BASE_IMAGE', 'MODEL_ID', 'MODEL_REVISION', 'MODEL_FILE', 'CHECKSUMS']) assert.ok(args.includes(arg), arg);
    const env = variantSteps
      .filter((step) => step.keyword === 'ENV')
      .map((step) => step.args)
      .join(' ');
    assert.match(env, /MODEL_DIR=\/opt\/model/);
    assert.match(env, /MODEL_DOWNLOAD=false/);
    assert.match(serverless, /MODEL_DIR: \/opt\/model/);
    const run = variantSteps.find((step) => step.keyword === 'RUN')?.args ?? '';
    assert.match(
      run,
      /dist\/shared\/cli\/main\.js download --model "\$\{MODEL_ID\}" --dir "\$\{MODEL_DIR\}" --revision "\$\{MODEL_REVISION\}"/,
    );
    assert.match(run, /dist\/shared\/cli\/main\.js warmup/);
    assert.match(serverless, /file: Dockerfile\.variant/);
  });

  test('metrics: the dashboard of the metrics contract, the env the code reads, the outputs', async () => {
    const { template, status, output } = await slsPackage({ model: 'Xenova/bge-small-en-v1.5', image: DIGEST });
    assert.equal(status, 0, output);
    assert.ok(template);

    // The env of the Powertools Metrics contract: the namespace on both functions, the receive count on the worker.
    const worker = template.Resources.WorkerLambdaFunction.Properties.Environment.Variables;
    const invoke = template.Resources.InvokeLambdaFunction.Properties.Environment.Variables;
    for (const env of [worker, invoke]) {
      assert.equal(env.POWERTOOLS_METRICS_NAMESPACE, 'ServerlessVectorizer');
      assert.equal(env.POWERTOOLS_SERVICE_NAME, 'serverless-vectorizer');
    }
    assert.equal(worker.MAX_RECEIVE_COUNT, '3');
    assert.equal(worker.MAX_RECEIVE_COUNT, String(template.Resources.JobsQueue.Properties.RedrivePolicy.maxReceiveCount));
    assert.equal(invoke.MAX_RECEIVE_COUNT, undefined);

    // The body: CloudWatch's dashboard shape, widgets on the 24-wide grid without overlaps.
    const { name, references, widgets } = dashboardOf(template);
    assert.equal(name, 'serverless-vectorizer-dev-us-east-1');
    assert.ok(widgets.length >= 12, `${widgets.length} widgets`);
    for (const widget of widgets) {
      assert.ok(['metric', 'alarm', 'text', 'log'].includes(widget.type), widget.type);
      for (const key of ['x', 'y', 'width', 'height'] as const) assert.ok(Number.isInteger(widget[key]) && widget[key] >= 0, key);
      assert.ok(widget.width >= 1 && widget.height >= 1 && widget.x + widget.width <= 24, JSON.stringify(widget));
      assert.equal(typeof widget.properties, 'object');
      assert.equal(typeof widget.properties.title, 'string');
      if (widget.type === 'metric') {
        assert.equal(widget.properties.region, sub('AWS::Region'));
        assert.ok(Array.isArray(widget.properties.metrics) && widget.properties.metrics.length > 0, widget.properties.title);
      }
    }
    for (const [index, a] of widgets.entries())
      for (const b of widgets.slice(index + 1))
        assert.ok(
          a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y,
          `${a.properties.title} overlaps ${b.properties.title}`,
        );
    // Every Fn::Sub reference is a pseudo parameter or a resource (with an attribute) of the template.
    assert.ok(references.length > 0);
    for (const reference of references) assert.ok(reference === 'AWS::Region' || reference.split('.')[0] in template.Resources, reference);

    // Custom metrics: the namespace and exactly the four dimensions; percentiles where the contract is a time.
    assertDashboardMetrics(template, { namespace: 'ServerlessVectorizer', model: 'Xenova/bge-small-en-v1.5', kind: 'text' });
    const lines = metricLines(widgets);
    for (const [fn, metric] of [
      ['worker', 'ModelRunTime'],
      ['invoke', 'ModelRunTime'],
      ['worker', 'QueueToVectorLatency'],
    ])
      assert.deepEqual(
        lines
          .filter((line) => line.name === metric && line.dimensions.function === fn)
          .map((line) => line.options.stat)
          .sort(),
        ['p50', 'p99'],
        `${fn} ${metric}`,
      );

    // AWS/SQS on the jobs queue and the DLQ; AWS/Lambda for both functions.
    const onQueue = (queue: string) =>
      lines
        .filter((line) => line.namespace === 'AWS/SQS' && line.dimensions.QueueName === sub(`${queue}.QueueName`))
        .map((line) => line.name);
    for (const metric of ['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage'])
      assert.ok(onQueue('JobsQueue').includes(metric), metric);
    assert.deepEqual(onQueue('JobsDeadLetterQueue'), ['ApproximateNumberOfMessagesVisible']);
    for (const metric of ['Invocations', 'Errors', 'Throttles', 'Duration', 'ConcurrentExecutions'])
      for (const id of ['WorkerLambdaFunction', 'InvokeLambdaFunction'])
        assert.ok(
          lines.some((line) => line.namespace === 'AWS/Lambda' && line.name === metric && line.dimensions.FunctionName === sub(id)),
          `${metric} of ${id}`,
        );

    // The alarm widget shows each alarm; the threshold lines show the params' values.
    const alarmWidget = widgets.find((widget) => widget.type === 'alarm');
    assert.deepEqual([...(alarmWidget?.properties.alarms ?? [])].sort(), ALARM_IDS.map((id) => sub(`${id}.Arn`)).sort());
    const annotations = widgets.flatMap((widget) => widget.properties.annotations?.horizontal ?? []);
    assert.deepEqual(
      annotations.map((annotation: { value: number }) => annotation.value),
      [0.05, 900],
    );

    assert.deepEqual(template.Outputs?.DashboardName?.Value, { Ref: 'Dashboard' });
    assert.deepEqual(template.Outputs?.DashboardUrl?.Value, {
      'Fn::Sub': `https://${sub('AWS::Region')}.console.aws.amazon.com/cloudwatch/home?region=${sub('AWS::Region')}#dashboards/dashboard/${sub('Dashboard')}`,
    });
    // EMF metrics go through the logs: no PutMetricData permission.
    assert.ok(!JSON.stringify(template.Resources.IamRoleLambdaExecution).includes('cloudwatch:PutMetricData'));
  });

  test('alarms: DLQ, error rate, oldest message, throttles; default thresholds and no actions without alarmTopicArn', async () => {
    const { template, status, output } = await slsPackage({ model: 'Xenova/bge-small-en-v1.5', image: DIGEST });
    assert.equal(status, 0, output);
    assert.ok(template);
    const alarms = alarmsOf(template);

    // No topic: the condition is false, so every AlarmActions and OKActions resolves to AWS::NoValue.
    assert.equal(evaluateCondition(template.Conditions?.HasAlarmTopic), false);
    for (const [id, alarm] of Object.entries(alarms)) {
      assert.equal((alarm.AlarmActions as Record<string, unknown[]>)['Fn::If'][0], 'HasAlarmTopic', id);
      assert.equal(resolveActions(template, alarm.AlarmActions), undefined, id);
      assert.equal(resolveActions(template, alarm.OKActions), undefined, id);
    }

    const dlq = alarms.DeadLetterQueueAlarm;
    assert.deepEqual(
      { ...dlq, AlarmName: undefined, AlarmDescription: undefined, AlarmActions: undefined, OKActions: undefined },
      {
        AlarmName: undefined,
        AlarmDescription: undefined,
        AlarmActions: undefined,
        OKActions: undefined,
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['JobsDeadLetterQueue', 'QueueName'] } }],
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      },
    );

    const age = alarms.OldestMessageAgeAlarm;
    assert.equal(age.Namespace, 'AWS/SQS');
    assert.equal(age.MetricName, 'ApproximateAgeOfOldestMessage');
    assert.deepEqual(age.Dimensions, [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['JobsQueue', 'QueueName'] } }]);
    assert.equal(age.Statistic, 'Maximum');
    assert.equal(age.Threshold, 900);
    assert.equal(age.ComparisonOperator, 'GreaterThanThreshold');

    for (const [id, fn] of [
      ['WorkerThrottlesAlarm', 'WorkerLambdaFunction'],
      ['InvokeThrottlesAlarm', 'InvokeLambdaFunction'],
    ]) {
      const throttles = alarms[id];
      assert.equal(throttles.Namespace, 'AWS/Lambda', id);
      assert.equal(throttles.MetricName, 'Throttles', id);
      assert.deepEqual(throttles.Dimensions, [{ Name: 'FunctionName', Value: { Ref: fn } }], id);
      assert.equal(throttles.Statistic, 'Sum', id);
      assert.equal(throttles.Threshold, 0, id);
      assert.equal(throttles.ComparisonOperator, 'GreaterThanThreshold', id);
    }

    // Error rate: errors / (embedded + errors) of the worker's four-dimension metrics, 2 of 3 five-minute periods.
    const rate = alarms.ErrorRateAlarm;
    assert.equal(rate.Threshold, 0.05);
    assert.equal(rate.ComparisonOperator, 'GreaterThanThreshold');
    assert.equal(rate.EvaluationPeriods, 3);
    assert.equal(rate.DatapointsToAlarm, 2);
    const stats = (rate.Metrics as AlarmMetric[]).flatMap((metric) =>
      metric.MetricStat ? [{ ...metric, MetricStat: metric.MetricStat }] : [],
    );
    assert.deepEqual(
      stats.map((metric) => [
        metric.Id,
        metric.MetricStat.Metric.MetricName,
        metric.MetricStat.Stat,
        metric.MetricStat.Period,
        metric.ReturnData,
      ]),
      [
        ['embedded', 'DocumentsEmbedded', 'Sum', 300, false],
        ['errors', 'DocumentErrors', 'Sum', 300, false],
      ],
    );
    for (const metric of stats) {
      assert.equal(metric.MetricStat.Metric.Namespace, 'ServerlessVectorizer');
      assert.deepEqual(metric.MetricStat.Metric.Dimensions, [
        { Name: 'service', Value: 'serverless-vectorizer' },
        { Name: 'function', Value: 'worker' },
        { Name: 'model', Value: 'Xenova/bge-small-en-v1.5' },
        { Name: 'kind', Value: 'text' },
      ]);
    }
    const returned = (rate.Metrics as AlarmMetric[]).filter((metric) => metric.ReturnData);
    assert.equal(returned.length, 1, 'one time series for the alarm');
    const expression = returned[0].Expression as string;
    const at = (embedded: number | undefined, errors: number | undefined) => evaluateMetricMath(expression, { embedded, errors });
    assert.equal(at(95, 5), 0.05);
    assert.equal(at(0, 0), 0, 'no documents: no division by zero');
    assert.equal(at(undefined, 3), 1, 'only errors in the period');
    assert.equal(at(10, undefined), 0, 'no errors in the period');
  });

  test('metrics and alarms: non-default namespace, thresholds, SNS topic and a sparse model', async () => {
    const topic = 'arn:aws:sns:us-east-1:123456789012:vectorizer-alerts';
    const { template, status, output } = await slsPackage({
      model: 'Qdrant/Splade_PP_en_v1',
      image: DIGEST,
      metricsNamespace: 'Acme/Vectors',
      alarmTopicArn: topic,
      errorRateThreshold: '0.2',
      maxMessageAgeSeconds: '1800',
      maxReceiveCount: '5',
    });
    assert.equal(status, 0, output);
    assert.ok(template);
    for (const fn of ['WorkerLambdaFunction', 'InvokeLambdaFunction'])
      assert.equal(template.Resources[fn].Properties.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE, 'Acme/Vectors');
    assert.equal(template.Resources.WorkerLambdaFunction.Properties.Environment.Variables.MAX_RECEIVE_COUNT, '5');

    assertDashboardMetrics(template, { namespace: 'Acme/Vectors', model: 'Qdrant/Splade_PP_en_v1', kind: 'sparse' });
    const annotations = dashboardOf(template).widgets.flatMap((widget) => widget.properties.annotations?.horizontal ?? []);
    assert.deepEqual(
      annotations.map((annotation: { value: number }) => annotation.value),
      [0.2, 1800],
    );

    const alarms = alarmsOf(template);
    assert.equal(evaluateCondition(template.Conditions?.HasAlarmTopic), true);
    for (const [id, alarm] of Object.entries(alarms)) {
      assert.deepEqual(resolveActions(template, alarm.AlarmActions), [topic], id);
      assert.deepEqual(resolveActions(template, alarm.OKActions), [topic], id);
    }
    assert.equal(alarms.ErrorRateAlarm.Threshold, 0.2);
    assert.equal(alarms.OldestMessageAgeAlarm.Threshold, 1800);
    const watched = (alarms.ErrorRateAlarm.Metrics as AlarmMetric[]).flatMap((metric) =>
      metric.MetricStat ? [metric.MetricStat.Metric] : [],
    );
    assert.equal(watched.length, 2);
    for (const metric of watched) {
      assert.equal(metric.Namespace, 'Acme/Vectors');
      assert.deepEqual(metric.Dimensions.at(-1), { Name: 'kind', Value: 'sparse' });
    }
  });

  test('metrics params are validated: topic ARN, threshold range, namespace', async () => {
    for (const [params, message] of [
      [{ alarmTopicArn: 'vectorizer-alerts' }, /--param alarmTopicArn=vectorizer-alerts: expected an SNS topic ARN/],
      [{ errorRateThreshold: '5%' }, /--param errorRateThreshold=5%: expected a number from 0 to 1/],
      [{ maxMessageAgeSeconds: '30' }, /--param maxMessageAgeSeconds=30: expected an integer from 60/],
      [{ metricsNamespace: 'AWS/Lambda' }, /--param metricsNamespace=AWS\/Lambda: .*not starting with AWS\//],
    ] as const) {
      const { status, output } = await slsPackage({ model: 'Xenova/bge-small-en-v1.5', image: DIGEST, ...params });
      assert.notEqual(status, 0, JSON.stringify(params));
      assert.match(output, message);
    }
  });
});
