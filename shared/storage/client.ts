import type { S3Client } from '@aws-sdk/client-s3';
import type { S3Config } from '../config.ts';
import { loadS3Sdk } from './s3.ts';

/**
 * The process's S3 client. Region and credentials come from the SDK's standard chain
 * (environment, profile, Lambda role); the endpoint from the configuration.
 */
export async function createS3Client(config: S3Config): Promise<S3Client> {
  const { S3Client } = await loadS3Sdk();
  return new S3Client({
    forcePathStyle: config.forcePathStyle,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.region ? { region: config.region } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
  });
}
