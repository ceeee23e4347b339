import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';

/** Credentials and region the emulator accepts (any value works; these keep the SDK offline). */
export const EMULATOR_ENV = {
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
} as const;

export interface Emulator {
  /** `http://127.0.0.1:PORT` */
  readonly endpoint: string;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly server: Awaited<ReturnType<typeof startFauxqs>>;
  /** Environment for a process (or loadConfig) that should talk to this emulator. */
  readonly env: Record<string, string>;
  /** Creates a bucket with a unique name (prefix-uuid) and returns the name. */
  bucket(prefix?: string): Promise<string>;
  stop(): Promise<void>;
}

/** Starts a fauxqs S3+SQS emulator on a free loopback port; each test file starts its own. */
export async function startEmulator(): Promise<Emulator> {
  const server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false } as Parameters<typeof startFauxqs>[0]);
  const endpoint = `http://127.0.0.1:${server.port}`;
  const clientConfig = {
    endpoint,
    region: EMULATOR_ENV.AWS_REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  const s3 = new S3Client({ ...clientConfig, forcePathStyle: true });
  const sqs = new SQSClient(clientConfig);
  return {
    endpoint,
    s3,
    sqs,
    server,
    env: { ...EMULATOR_ENV, AWS_ENDPOINT_URL: endpoint, S3_FORCE_PATH_STYLE: 'true' },
    async bucket(prefix = 'test') {
      const name = `${prefix}-${randomUUID().slice(0, 8)}`;
      await s3.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    async stop() {
      s3.destroy();
      sqs.destroy();
      await server.stop();
    },
  };
}
