/**
 * A real S3-compatible HTTP server for tests: s3rver on 127.0.0.1, a free port and a temporary
 * directory, stopped (and its directory removed) when the current test — or, started outside a
 * test, the file — ends. `client` talks to it with @aws-sdk/client-s3 set up for s3rver's quirks
 * (no aws-chunked uploads: checksums only when required, Buffer bodies).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, onTestFinished } from 'vitest';

const fileCleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of fileCleanups.splice(0).reverse()) await c().catch(() => {});
});

function registerCleanup(cleanup: () => Promise<void>): void {
  try {
    onTestFinished(cleanup);
  } catch {
    fileCleanups.push(cleanup);
  }
}

export interface TestS3 {
  /** http://127.0.0.1:PORT, for store.url. */
  readonly url: string;
  readonly client: S3Client;
  readonly directory: string;
  /** Connector settings that point an S3 sink at this server and `bucket`. */
  sinkProps(bucket: string): Record<string, string>;
  createBucket(name: string): Promise<void>;
  /** Every key in the bucket (under `prefix`), sorted. */
  list(bucket: string, prefix?: string): Promise<string[]>;
  get(bucket: string, key: string): Promise<Buffer>;
  close(): Promise<void>;
}

export const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export async function startS3(opts: { buckets?: readonly string[] } = {}): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'trib-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory,
    silent: true,
    configureBuckets: (opts.buckets ?? []).map((name) => ({ name, configs: [] })),
  });
  const address = await server.run();
  const url = `http://127.0.0.1:${address.port}`;
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: url,
    forcePathStyle: true,
    credentials: S3_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    client.destroy();
    await server.close();
    rmSync(directory, { recursive: true, force: true });
  };
  registerCleanup(close);
  return {
    url,
    client,
    directory,
    sinkProps: (bucket) => ({
      's3.bucket.name': bucket,
      's3.region': 'us-east-1',
      'store.url': url,
      's3.path.style.access.enabled': 'true',
      'aws.access.key.id': S3_CREDENTIALS.accessKeyId,
      'aws.secret.access.key': S3_CREDENTIALS.secretAccessKey,
    }),
    createBucket: async (name) => {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    list: async (bucket, prefix) => {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const out = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            ...(prefix ? { Prefix: prefix } : {}),
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
        for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key);
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    get: async (bucket, key) => {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await out.Body!.transformToByteArray());
    },
    close,
  };
}
