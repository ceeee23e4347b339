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

/**
 * An S3 client built on first use: a request that never touches S3 (inline texts) then never
 * pays for loading the SDK, and a cold start does not either. Only `send` and `destroy` are used.
 * `instrument` takes the client when it is built (tracing).
 */
export function lazyS3Client(config: S3Config, instrument: (client: S3Client) => S3Client = (client) => client): S3Client {
  let client: Promise<S3Client> | undefined;
  const get = () => (client ??= createS3Client(config).then(instrument));
  return {
    send: async (command: never, options?: never) => (await get()).send(command, options),
    destroy: () => void client?.then((real) => real.destroy()),
  } as unknown as S3Client;
}
