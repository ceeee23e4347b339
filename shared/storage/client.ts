import { S3Client } from '@aws-sdk/client-s3';
import type { S3Config } from '../config.ts';

/**
 * The process's S3 client. Region and credentials come from the SDK's standard chain
 * (environment, profile, Lambda role); the endpoint from the configuration.
 */
export function createS3Client(config: S3Config): S3Client {
  return new S3Client({
    forcePathStyle: config.forcePathStyle,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.region ? { region: config.region } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
  });
}
