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

module.exports = {
  indexSink,
  /** The model's index: its name (from the model id and file: a model change means a new index) and dimension. */
  indexName: async (context) => (await modelRow(context)).indexName,
  indexDimension: async (context) => (await modelRow(context)).dimension ?? 1,

  invokeImage: (context) => imageFor('invoke', context),
  workerImage: (context) => imageFor('worker', context),

  /** AWS recommends a visibility timeout of at least six times the function timeout. */
  visibilityTimeout: async ({ resolveVariable }) => 6 * Number(await param(resolveVariable, 'timeout', 120)),

  /** An IAM-authenticated Function URL on the invoke function, when --param functionUrl=true. */
  functionUrl: async ({ resolveVariable }) =>
    String(await param(resolveVariable, 'functionUrl', 'false')) === 'true' ? { authorizer: 'aws_iam' } : false,

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
