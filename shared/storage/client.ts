import { S3Client } from '@aws-sdk/client-s3';
import type { S3Config } from '../config.ts';

/**
 * The process's S3 client. The SDK takes region, credentials and `AWS_ENDPOINT_URL` (an emulator
 * such as fauxqs or LocalStack) from its standard environment variables and profile.
 */
export function createS3Client(config: S3Config): S3Client {
  return new S3Client({ forcePathStyle: config.forcePathStyle });
}
