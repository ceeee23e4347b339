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
});
