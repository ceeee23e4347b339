import type { IndexConfig, S3Config } from '../config.ts';
import { ConfigurationError } from '../errors.ts';
import type { ModelSpec } from '../models/types.ts';
import { indexNameFor } from './keys.ts';
import type { IndexSink } from './types.ts';

/**
 * Opens the configured index sink for the model, or gives undefined for `INDEX_SINK=none`. Only
 * dense models (text, image) have vectors an index holds.
 * @throws ConfigurationError for a sparse or rerank model with a sink, or a model of unknown dimension.
 */
export async function openIndexSink(config: IndexConfig, s3: S3Config, model: ModelSpec): Promise<IndexSink | undefined> {
  const dense = model.type === 'text' || model.type === 'image';
  if (config.sink === 'none' || (config.sink === 'auto' && !dense)) return undefined;
  if (!dense) {
    throw new ConfigurationError(
      `INDEX_SINK=${config.sink} holds dense vectors; the ${model.type} model ${model.id} has none: set INDEX_SINK=none (its outputs stay in the .vectors.json sidecars).`,
    );
  }
  if (!model.dimension) {
    throw new ConfigurationError(
      `INDEX_SINK=${config.sink} needs the dimension of ${model.id}, which neither the catalog nor config.json gives.`,
    );
  }
  const name = config.name ?? indexNameFor(model.id, model.file);
  if (config.sink === 'lancedb' || config.sink === 'auto') {
    const { openLanceDbSink } = await import('./lancedb.ts');
    return openLanceDbSink({
      uri: config.uri,
      table: name,
      dimension: model.dimension,
      storageOptions: lanceStorageOptions(config.uri, s3),
    });
  }
  const [{ S3VectorsClient }, { createS3VectorsSink, S3VECTORS_LIMITS }] = await Promise.all([
    import('@aws-sdk/client-s3vectors'),
    import('./s3vectors.ts'),
  ]);
  const client = new S3VectorsClient({
    ...(config.s3VectorsEndpoint ? { endpoint: config.s3VectorsEndpoint } : {}),
    ...(s3.region ? { region: s3.region } : {}),
    ...(s3.credentials ? { credentials: s3.credentials } : {}),
  });
  return createS3VectorsSink({ client, vectorBucket: config.vectorBucket as string, indexName: name, limits: S3VECTORS_LIMITS });
}

/** LanceDB's object-store settings for an `s3://` database: the same region, endpoint and keys as the S3 client. */
function lanceStorageOptions(uri: string, s3: S3Config): Record<string, string> | undefined {
  if (!uri.startsWith('s3://')) return undefined;
  return {
    ...(s3.region ? { region: s3.region } : {}),
    ...(s3.endpoint ? { endpoint: s3.endpoint, allowHttp: String(s3.endpoint.startsWith('http://')) } : {}),
    ...(s3.credentials
      ? {
          awsAccessKeyId: s3.credentials.accessKeyId,
          awsSecretAccessKey: s3.credentials.secretAccessKey,
          ...(s3.credentials.sessionToken ? { awsSessionToken: s3.credentials.sessionToken } : {}),
        }
      : {}),
  };
}
