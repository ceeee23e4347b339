// Values serverless.yml computes from its parameters: YAML alone cannot pick between image forms,
// multiply, or expand lists. Suffixes and prefix come from localstack/resources.json, so the
// deployment and `npm start` filter notifications the same way.
const { execFileSync } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const COMMANDS = { invoke: ['dist/functions/invoke.handler'], worker: ['dist/functions/worker.handler'] };
const resources = JSON.parse(readFileSync(join(__dirname, 'localstack', 'resources.json'), 'utf8'));
const param = (resolveVariable, name, fallback) => resolveVariable(`param:${name}, '${fallback}'`);

/** The prebuilt image (`--param image=<uri>@sha256:<digest>`), or the variant built for --param model. */
async function imageFor(name, { resolveVariable }) {
  const uri = await param(resolveVariable, 'image', '');
  if (!uri) return { name: 'vectorizer', command: COMMANDS[name] };
  if (!/@sha256:[0-9a-f]{64}$/.test(uri))
    throw new Error(`--param image=${uri} must be pinned by digest: <repository uri>@sha256:<64 hex digits>`);
  return { uri, command: COMMANDS[name] };
}

let catalog;
/**
 * The catalog row of --param model (and --param modelFile): `vectorizer list-models --format json`
 * run by the Node 22 the project installs, so the index's dimension and name come from the same
 * code the Lambda runs.
 */
async function modelRow({ resolveVariable }) {
  catalog ??= JSON.parse(
    execFileSync(
      join(__dirname, 'node_modules', '.bin', 'node'),
      [join(__dirname, 'bin', 'vectorizer.ts'), 'list-models', '--format', 'json'],
      {
        encoding: 'utf8',
      },
    ),
  );
  const id = String(await resolveVariable('param:model')).toLowerCase();
  const file = String(await param(resolveVariable, 'modelFile', ''));
  const rows = catalog.filter((row) => row.id.toLowerCase() === id && (file ? row.file === file : row.isDefault));
  const row = rows.find((candidate) => candidate.type === 'text') ?? rows[0];
  if (!row)
    throw new Error(`--param model=${id}${file ? ` --param modelFile=${file}` : ''} is not in the catalog (vectorizer list-models)`);
  return row;
}

/** `auto`: an S3 Vectors index for models with dense vectors (text, image), none for sparse and rerank. */
async function indexSink(context) {
  const sink = String(await param(context.resolveVariable, 'indexSink', 'auto'));
  if (!['auto', 'none', 's3vectors'].includes(sink)) throw new Error(`--param indexSink=${sink}: expected auto, s3vectors or none`);
  if (sink !== 'auto') return sink;
  const { type } = await modelRow(context);
  return type === 'text' || type === 'image' ? 's3vectors' : 'none';
}

/** A numeric --param within bounds, or an error naming the param, its value and the bounds. */
async function numberParam({ resolveVariable }, name, fallback, { min, max, integer = false }) {
  const raw = String(await param(resolveVariable, name, fallback));
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value)))
    throw new Error(`--param ${name}=${raw}: expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  return value;
}

/** CloudWatch namespaces take letters, digits and . - _ / # : and spaces, and AWS/ is reserved. */
async function metricsNamespace({ resolveVariable }) {
  const namespace = String(await param(resolveVariable, 'metricsNamespace', 'ServerlessVectorizer'));
  if (!/^[A-Za-z0-9.\-_/#: ]{1,255}$/.test(namespace) || /^AWS\//i.test(namespace))
    throw new Error(
      `--param metricsNamespace=${namespace}: expected 1 to 255 of A-Z a-z 0-9 . - _ / # : and space, not starting with AWS/`,
    );
  return namespace;
}

/** Empty (alarms without actions) or the ARN of an SNS topic. */
/** The SHA-256 digests (hex, comma-separated) of the API keys HTTP callers must send (API_KEY_SHA256). */
async function apiKeySha256({ resolveVariable }) {
  const digests = String(await param(resolveVariable, 'apiKeySha256', ''))
    .split(',')
    .map((digest) => digest.trim().toLowerCase())
    .filter(Boolean);
  for (const digest of digests)
    if (!/^[0-9a-f]{64}$/.test(digest))
      throw new Error(`--param apiKeySha256: ${digest} is not a SHA-256 digest in hex (64 characters; printf %s "$KEY" | sha256sum)`);
  return digests.join(',');
}

async function alarmTopicArn({ resolveVariable }) {
  const arn = String(await param(resolveVariable, 'alarmTopicArn', ''));
  if (arn && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(arn))
    throw new Error(`--param alarmTopicArn=${arn}: expected an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>) or nothing`);
  return arn;
}

/** The error-rate alarm's threshold: a fraction of the worker's documents. */
const errorRateThreshold = (context) => numberParam(context, 'errorRateThreshold', 0.05, { min: 0, max: 1 });
// SQS publishes its metrics once a minute: an age threshold under 60 s would read the same as 60.
const maxMessageAgeSeconds = (context) => numberParam(context, 'maxMessageAgeSeconds', 900, { min: 60, max: 1209600, integer: true });

/** The catalog kind of the model (text, sparse, rerank, image): the `kind` dimension of every custom metric. */
const modelKind = async (context) => (await modelRow(context)).type;

/** The values of the dimensions every custom metric carries but `function`: service, model and kind. */
async function metricLabels(context) {
  return {
    service: String(await context.resolveVariable('self:provider.environment.POWERTOOLS_SERVICE_NAME')),
    model: String(await context.resolveVariable('param:model')),
    kind: await modelKind(context),
  };
}

/** The four dimensions of a function's custom metrics, as name/value pairs: `[['service', 'serverless-vectorizer'], ['function', 'worker'], ...]`. */
const dimensionPairs = ({ service, model, kind }, name) => [
  ['service', service],
  ['function', name],
  ['model', model],
  ['kind', kind],
];

// The alarms of serverless.yml (logical ids), shown on the dashboard; a test checks each exists.
const ALARMS = ['DeadLetterQueueAlarm', 'ErrorRateAlarm', 'OldestMessageAgeAlarm', 'WorkerThrottlesAlarm', 'InvokeThrottlesAlarm'];
// The error rate of the alarm and of its widget; FILL counts a period with only errors (or none) as 0 of the other.
const ERROR_RATE_EXPRESSION = 'IF(FILL(embedded, 0) + FILL(errors, 0) > 0, FILL(errors, 0) / (FILL(embedded, 0) + FILL(errors, 0)), 0)';

/** A reference in an Fn::Sub string: `sub('JobsQueue.QueueName')` is `${JobsQueue.QueueName}`. */
const sub = (name) => '${' + name + '}';

// Dashboard layout: CloudWatch's grid is 24 units wide; each row of widgets is placed left to right.
const GRID_WIDTH = 24;
const WIDGET_HEIGHT = 6;

/** Places rows of widgets on the grid: x and y computed, so widgets never overlap. */
function layOut(rows) {
  let y = 0;
  return rows.flatMap((row) => {
    let x = 0;
    const placed = row.map(({ type, width, height = WIDGET_HEIGHT, properties }) => {
      const at = { type, x, y, width, height, properties };
      x += width;
      return at;
    });
    if (x > GRID_WIDTH) throw new Error(`dashboard row at y=${y} is ${x} units wide (at most ${GRID_WIDTH})`);
    y += Math.max(...placed.map((widget) => widget.height));
    return placed;
  });
}

/**
 * The CloudWatch dashboard body as an Fn::Sub over its JSON: `${AWS::Region}`, function names
 * (`${WorkerLambdaFunction}`), queue names (`${JobsQueue.QueueName}`) and alarm ARNs are CloudFormation's.
 */
async function dashboardBody(context) {
  const namespace = await metricsNamespace(context);
  const labels = await metricLabels(context);
  const { service, model } = labels;
  const maxMessageAge = await maxMessageAgeSeconds(context);
  const errorRate = await errorRateThreshold(context);
  const region = sub('AWS::Region');
  const functions = { worker: sub('WorkerLambdaFunction'), invoke: sub('InvokeLambdaFunction') };

  const custom = (fn, metric, options = {}) => [
    namespace,
    metric,
    ...dimensionPairs(labels, fn).flat(),
    { label: `${fn} ${metric}`, ...options },
  ];
  const percentiles = (fn, metric) => ['p50', 'p99'].map((stat) => custom(fn, metric, { stat, label: `${fn} ${metric} ${stat}` }));
  const sqs = (queue, metric, label) => ['AWS/SQS', metric, 'QueueName', sub(`${queue}.QueueName`), { label }];
  const lambda = (metric, stat) =>
    Object.entries(functions).map(([fn, ref]) => ['AWS/Lambda', metric, 'FunctionName', ref, { stat, label: `${fn} ${metric} ${stat}` }]);
  const metric = (title, metrics, properties = {}) => ({
    type: 'metric',
    width: 8,
    properties: { title, region, view: 'timeSeries', stacked: false, stat: 'Sum', period: 300, metrics, ...properties },
  });
  const threshold = (label, value) => ({ annotations: { horizontal: [{ label, value }] } });

  const widgets = layOut([
    [
      {
        type: 'alarm',
        width: GRID_WIDTH,
        height: 3,
        properties: { title: 'Alarms', alarms: ALARMS.map((alarm) => sub(`${alarm}.Arn`)) },
      },
    ],
    [
      metric('Documents: embedded vs errors', [custom('worker', 'DocumentsEmbedded'), custom('worker', 'DocumentErrors')]),
      metric(
        'Document error rate (alarm threshold)',
        [
          custom('worker', 'DocumentsEmbedded', { id: 'embedded', visible: false }),
          custom('worker', 'DocumentErrors', { id: 'errors', visible: false }),
          [{ id: 'rate', label: 'errors / (embedded + errors)', expression: ERROR_RATE_EXPRESSION }],
        ],
        { yAxis: { left: { min: 0, max: 1 } }, ...threshold('errorRateThreshold', errorRate) },
      ),
      metric('Chunks, tokens and images', [
        custom('worker', 'ChunksEmbedded'),
        custom('worker', 'ImagesEmbedded'),
        custom('invoke', 'ImagesEmbedded'),
        custom('worker', 'TokensEmbedded', { yAxis: 'right' }),
        custom('invoke', 'TokensEmbedded', { yAxis: 'right' }),
      ]),
    ],
    [
      metric('Model run time (ms)', [...percentiles('worker', 'ModelRunTime'), ...percentiles('invoke', 'ModelRunTime')]),
      metric('Queue to vector latency (ms)', percentiles('worker', 'QueueToVectorLatency')),
      metric('Batch size (records per invocation)', [
        custom('worker', 'BatchSize', { stat: 'Average', label: 'average' }),
        custom('worker', 'BatchSize', { stat: 'Maximum', label: 'maximum' }),
      ]),
    ],
    [
      metric('Retries and DLQ moves', [custom('worker', 'Retries'), custom('worker', 'DlqMoves')]),
      metric('Errors by code', [
        [
          {
            id: 'codes',
            label: '',
            // One line per function and code: ErrorsByCode carries the four dimensions plus `code`.
            expression: `SEARCH('{"${namespace}",code,function,kind,model,service} MetricName="ErrorsByCode" service="${service}" model="${model}"', 'Sum', 300)`,
          },
        ],
      ]),
      // ColdStart has the same four dimensions as every other metric (shared/metrics.ts).
      metric(
        'Cold starts',
        Object.keys(functions).map((fn) => custom(fn, 'ColdStart', { label: `${fn} cold starts` })),
      ),
    ],
    [
      metric('Invoke: requests vs errors', [custom('invoke', 'Requests'), custom('invoke', 'RequestErrors')]),
      metric(
        'Jobs queue: visible and in flight',
        [
          sqs('JobsQueue', 'ApproximateNumberOfMessagesVisible', 'visible'),
          sqs('JobsQueue', 'ApproximateNumberOfMessagesNotVisible', 'in flight'),
        ],
        { stat: 'Maximum', period: 60 },
      ),
      metric('Jobs queue: age of oldest message (s)', [sqs('JobsQueue', 'ApproximateAgeOfOldestMessage', 'oldest')], {
        stat: 'Maximum',
        period: 60,
        ...threshold('maxMessageAgeSeconds', maxMessageAge),
      }),
    ],
    [
      metric('Dead-letter queue depth', [sqs('JobsDeadLetterQueue', 'ApproximateNumberOfMessagesVisible', 'messages')], {
        stat: 'Maximum',
        period: 60,
      }),
      metric('Lambda invocations, errors, throttles', [
        ...lambda('Invocations', 'Sum'),
        ...lambda('Errors', 'Sum'),
        ...lambda('Throttles', 'Sum'),
      ]),
      metric('Lambda duration (ms)', [...lambda('Duration', 'p50'), ...lambda('Duration', 'p99')]),
    ],
    [metric('Lambda concurrent executions', lambda('ConcurrentExecutions', 'Maximum'), { period: 60 })],
  ]);
  return { 'Fn::Sub': JSON.stringify({ widgets }) };
}

module.exports = {
  indexSink,
  modelKind,
  metricsNamespace,
  alarmTopicArn,
  dashboardBody,
  /** The four dimensions of the worker's custom metrics as alarms take them: `[{ Name: 'service', Value: ... }, ...]`. */
  workerDimensions: async (context) => dimensionPairs(await metricLabels(context), 'worker').map(([Name, Value]) => ({ Name, Value })),
  errorRateExpression: () => ERROR_RATE_EXPRESSION,
  errorRateThreshold,
  maxMessageAgeSeconds,
  /** The model's index: its name (from the model id and file: a model change means a new index) and dimension. */
  indexName: async (context) => (await modelRow(context)).indexName,
  indexDimension: async (context) => (await modelRow(context)).dimension ?? 1,

  invokeImage: (context) => imageFor('invoke', context),
  workerImage: (context) => imageFor('worker', context),

  /** AWS recommends a visibility timeout of at least six times the function timeout. */
  visibilityTimeout: async ({ resolveVariable }) => 6 * Number(await param(resolveVariable, 'timeout', 120)),

  /**
   * A Function URL on the invoke function, when --param functionUrl=true: IAM-authenticated
   * (functionUrlAuth=iam, the default), or open to callers with an API key (functionUrlAuth=apikey:
   * OpenAI and TEI clients send `Authorization: Bearer <key>`, checked against apiKeySha256).
   */
  functionUrl: async (context) => {
    if (String(await param(context.resolveVariable, 'functionUrl', 'false')) !== 'true') return false;
    const auth = String(await param(context.resolveVariable, 'functionUrlAuth', 'iam'));
    if (auth === 'iam') return { authorizer: 'aws_iam' };
    if (auth !== 'apikey') throw new Error(`--param functionUrlAuth=${auth}: expected iam or apikey`);
    if (!(await apiKeySha256(context)))
      throw new Error(
        '--param functionUrlAuth=apikey needs --param apiKeySha256=<hex SHA-256 of the key> (printf %s "$KEY" | sha256sum): without it the URL would be open to anyone',
      );
    return true;
  },

  apiKeySha256,

  /** X-Ray tracing of both functions (Powertools Tracer), when --param tracing=true. */
  tracing: async ({ resolveVariable }) => {
    const value = String(await param(resolveVariable, 'tracing', 'false'));
    if (value !== 'true' && value !== 'false') throw new Error(`--param tracing=${value}: expected true or false`);
    return value === 'true';
  },

  /** Objects the functions may write: the input bucket (outputs beside sources) and --param outputBuckets. */
  outputObjectArns: async ({ resolveVariable }) => {
    const extra = String(await param(resolveVariable, 'outputBuckets', ''))
      .split(',')
      .map((bucket) => bucket.trim())
      .filter(Boolean);
    for (const bucket of extra)
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new Error(`--param outputBuckets: ${bucket} is not a bucket name`);
    return [{ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['InputBucket', 'Arn'] }, '/*']] }, ...extra.map((bucket) => `arn:aws:s3:::${bucket}/*`)];
  },

  /** One queue configuration per supported suffix (S3 takes one suffix per filter rule). */
  notifications: async ({ resolveVariable }) => {
    const prefix = String(await param(resolveVariable, 'inputPrefix', ''));
    // ObjectCreated embeds; ObjectRemoved (deletes and delete markers) removes the vectors and sidecars.
    return ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'].flatMap((event) =>
      resources.notifications[0].suffixes.map((suffix) => ({
        Event: event,
        Queue: { 'Fn::GetAtt': ['JobsQueue', 'Arn'] },
        Filter: { S3Key: { Rules: [...(prefix ? [{ Name: 'prefix', Value: prefix }] : []), { Name: 'suffix', Value: suffix }] } },
      })),
    );
  },
};
