/**
 * A local stand-in for Amazon S3 Vectors: an HTTP server speaking the service's REST JSON protocol
 * (restJson1) as `@aws-sdk/client-s3vectors` sends it, so
 * `new S3VectorsClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } })`
 * works against it unchanged. There is no official emulator.
 *
 * Wire protocol (from the SDK's own schemas, node_modules/@aws-sdk/client-s3vectors/dist-es/schemas/schemas_0.js,
 * and the service model aws/aws-sdk-js-v3 codegen/sdk-codegen/aws-models/s3vectors.json):
 * every data-plane operation is `POST /<OperationName>` with a JSON body (`vectorBucketName`,
 * `indexName` or `indexArn`, ...); success is 200 with a JSON body (`{}` when the output has no
 * members); an error is its modelled HTTP status with an `x-amzn-ErrorType: <Name>` header and a
 * body `{"message": "..."}` (ValidationException adds `fieldList: [{path, message}]`). Statuses:
 * ValidationException 400 (no @httpError: the client-error default), AccessDeniedException 403,
 * NotFoundException 404, RequestTimeoutException 408, ConflictException 409,
 * ServiceQuotaExceededException 402, TooManyRequestsException 429 (retryable, throttling),
 * InternalServerException 500, ServiceUnavailableException 503 (retryable).
 *
 * Validation modelled (limits page https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-vectors-limitations.html,
 * GA version, and the model's @length/@range traits): bucket and index names 3..63; dimension
 * 1..4096; dataType float32; distanceMetric cosine|euclidean; 1..10 non-filterable keys of 1..63
 * characters; 1..500 vectors per PutVectors; 1..100 keys per GetVectors; 1..500 per DeleteVectors;
 * keys 1..1024 characters; request body up to 20 MiB; vector length equal to the index dimension,
 * finite values, no zero vector on a cosine index (PutInputVector.data docs); metadata values
 * string, number, boolean or lists of them, at most 50 keys, 40 KB in all, 2 KB filterable
 * (message as the service words it: "Invalid record for key '<k>': Filterable metadata must have
 * at most 2048 bytes"); topK 1..100; filters with $eq $ne $gt $gte $lt $lte $in $nin $exists $and
 * $or (the user guide's "Metadata filtering" table), a non-filterable key in a filter is a 400;
 * ListVectors maxResults 1..1000 (default 500), segmentCount 1..16, nextToken paging; an unknown
 * bucket or index is a NotFoundException.
 *
 * NOT modelled (what a test passing here does not prove about AWS):
 * - eventual consistency: every write is visible to the next read and query at once;
 * - IAM, SigV4 signature checks, bucket policies, the GetVectors permission QueryVectors needs
 *   for filters/metadata (AccessDeniedException is never raised unless injected), tags;
 * - encryption (SSE-S3/KMS settings are accepted and ignored; no Kms* errors);
 * - approximate search: QueryVectors here is an exact brute-force scan, so recall is perfect,
 *   ties are broken by key; the real service is approximate and may miss neighbours, and newer
 *   index modes (CLASSIC/ENHANCED pre-filtering, queryMode) are not modelled;
 * - QueryVectors paging (nextToken for topK above a page size, in newer service versions) - all
 *   results come in one page; topK above 100 is refused as the GA limits page says;
 * - request rates and throughput quotas (1,000 write requests/s, 2,500 vectors/s per index), the
 *   2-billion-vectors-per-index and 10,000 indexes/buckets quotas (ServiceQuotaExceededException
 *   only when injected); ListVectors' 1 MB page cut;
 * - how the service really counts metadata bytes: here it is the UTF-8 size of the metadata's
 *   JSON text (filterable: of the object without the non-filterable keys), an over-estimate of a
 *   key+value count; the service's own rule is undocumented;
 * - the exact error for a body over 20 MiB (answered here as ValidationException 400; AWS may
 *   answer 413 from its front door) and the exact wording of messages other than the quoted one;
 * - whether a failed PutVectors can be partly applied (here a request is validated as a whole,
 *   then applied as a whole); duplicate keys in one request (last one wins here);
 * - the euclidean distance's exact form (here the L2 norm of the difference, not squared);
 * - bucket/index deletion, policies, ListIndexes/ListVectorBuckets, ARNs of other accounts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The service's values, each with where it is documented. */
const LIMITS = {
  nameMin: 3, // model VectorBucketName / IndexName @length min 3
  nameMax: 63, // model VectorBucketName / IndexName @length max 63
  dimensionMin: 1, // limitations page "Dimension value per vector: 1 to 4,096"; model Dimension @range
  dimensionMax: 4096,
  nonFilterableKeysMax: 10, // limitations page "Non-filterable metadata keys per vector index: Up to 10"
  metadataKeyNameMax: 63, // model MetadataKey @length 1..63
  vectorsPerPut: 500, // limitations page "Vectors per PutVectors API call: Up to 500"
  keysPerGet: 100, // limitations page "Vectors per GetVectors API call: Up to 100"
  keysPerDelete: 500, // limitations page "Vectors per DeleteVectors API call: Up to 500"
  keyLength: 1024, // model VectorKey @length 1..1024 (characters)
  payloadBytes: 20 * 1024 * 1024, // limitations page "Request payload size: Up to 20 MiB"
  metadataBytes: 40 * 1024, // limitations page "Total metadata per vector: Up to 40 KB"
  filterableMetadataBytes: 2 * 1024, // limitations page "Filterable metadata per vector: Up to 2 KB"
  metadataKeys: 50, // limitations page "Total metadata keys per vector: Up to 50"
  topK: 100, // limitations page "Top-K results per QueryVectors request: Up to 100"
  listMaxResults: 1000, // model ListVectorsMaxResults @range 1..1000
  listDefaultResults: 500, // model ListVectorsInput.maxResults @default 500
  segmentCount: 16, // model ListVectorsSegmentCount @range 1..16
} as const;

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';

type Metadata = Record<string, unknown>;
interface StoredVector {
  data: number[];
  metadata: Metadata;
}
interface Index {
  name: string;
  arn: string;
  dimension: number;
  distanceMetric: 'cosine' | 'euclidean';
  nonFilterable: Set<string>;
  creationTime: number;
  vectors: Map<string, StoredVector>;
}
interface Bucket {
  name: string;
  arn: string;
  creationTime: number;
  indexes: Map<string, Index>;
}

/** One request as the stand-in saw it. */
export interface StandInCall {
  readonly operation: string;
  readonly status: number;
  /** Vectors (PutVectors), keys (GetVectors, DeleteVectors) or results (QueryVectors, ListVectors) of the call. */
  readonly items?: number;
  /** Bytes of the request body. */
  readonly bytes: number;
}

export interface S3VectorsStandIn {
  /** `http://127.0.0.1:<port>`, for the client's `endpoint`. */
  readonly endpoint: string;
  stop(): Promise<void>;
  /** Every request, in arrival order. */
  readonly calls: StandInCall[];
  /** Answers the next `times` (default 1) calls of `operation` with `status` and error `errorType`, before any validation. */
  failNext(operation: string, status: number, errorType: string, times?: number): void;
  /** A snapshot of an index's vectors by key, or undefined when there is no such index. */
  index(bucket: string, name: string): ReadonlyMap<string, { data: number[]; metadata: Record<string, unknown> }> | undefined;
}

/** An error the service answers with. */
class ServiceError extends Error {
  readonly status: number;
  readonly type: string;
  readonly fieldList?: { path: string; message: string }[];
  constructor(status: number, type: string, message: string, fieldList?: { path: string; message: string }[]) {
    super(message);
    this.status = status;
    this.type = type;
    this.fieldList = fieldList;
  }
}

function validation(message: string, path?: string): ServiceError {
  return new ServiceError(400, 'ValidationException', message, path ? [{ path, message }] : undefined);
}

/** The Smithy server framework's wording for a violated @length/@range trait. */
function constraint(path: string, rule: string): ServiceError {
  return validation(`1 validation error detected. Value at '${path}' failed to satisfy constraint: Member must ${rule}`, path);
}

function notFound(message: string): ServiceError {
  return new ServiceError(404, 'NotFoundException', message);
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPrimitive(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

/** Characters as the service counts them (Unicode code points). */
function characters(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string')
    throw validation(
      `1 validation error detected. Value null at '/${field}' failed to satisfy constraint: Member must not be null`,
      `/${field}`,
    );
  return value;
}

function checkName(value: string, path: string): void {
  const length = characters(value);
  if (length < LIMITS.nameMin) throw constraint(path, `have length greater than or equal to ${LIMITS.nameMin}`);
  if (length > LIMITS.nameMax) throw constraint(path, `have length less than or equal to ${LIMITS.nameMax}`);
}

function checkList(value: unknown, path: string, max: number): unknown[] {
  if (!Array.isArray(value))
    throw validation(`1 validation error detected. Value null at '${path}' failed to satisfy constraint: Member must not be null`, path);
  if (value.length < 1) throw constraint(path, 'have length greater than or equal to 1');
  if (value.length > max) throw constraint(path, `have length less than or equal to ${max}`);
  return value;
}

function checkKey(value: unknown, path: string): string {
  if (typeof value !== 'string') throw validation(`Value at '${path}' must be a string`, path);
  const length = characters(value);
  if (length < 1) throw constraint(path, 'have length greater than or equal to 1');
  if (length > LIMITS.keyLength) throw constraint(path, `have length less than or equal to ${LIMITS.keyLength}`);
  return value;
}

function checkBoolean(body: Record<string, unknown>, field: string): boolean {
  const value = body[field];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw validation(`Value at '/${field}' must be a boolean`, `/${field}`);
  return value;
}

function checkInteger(value: unknown, path: string, min: number, max?: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw validation(`Value at '${path}' must be an integer`, path);
  if (value < min) throw constraint(path, `be greater than or equal to ${min}`);
  if (max !== undefined && value > max) throw constraint(path, `be less than or equal to ${max}`);
  return value;
}

/** The `float32` array of a VectorData union, rounded to float32 as the service stores it. */
function checkVectorData(value: unknown, path: string, index: Index, what: string): number[] {
  if (!isObject(value) || !Array.isArray(value.float32)) throw validation(`${what}: vector data must be given as float32`, path);
  const data = value.float32 as unknown[];
  if (data.length !== index.dimension) {
    throw validation(`${what}: vector has dimension ${data.length}, the index ${index.name} has dimension ${index.dimension}`, path);
  }
  if (!data.every((x) => typeof x === 'number' && Number.isFinite(x)))
    throw validation(`${what}: vector data must contain only finite float values`, path);
  const rounded = (data as number[]).map((x) => Math.fround(x));
  if (!rounded.every((x) => Number.isFinite(x))) throw validation(`${what}: vector data must contain only finite float32 values`, path);
  if (index.distanceMetric === 'cosine' && rounded.every((x) => x === 0))
    throw validation(`${what}: zero vectors are not allowed for the cosine distance metric`, path);
  return rounded;
}

function checkMetadata(value: unknown, key: string, index: Index): Metadata {
  if (value === undefined || value === null) return {};
  const record = `Invalid record for key '${key}'`;
  if (!isObject(value)) throw validation(`${record}: Metadata must be an object`);
  for (const [name, entry] of Object.entries(value)) {
    const ok = isPrimitive(entry) || (Array.isArray(entry) && entry.every(isPrimitive));
    if (!ok) throw validation(`${record}: Metadata value for '${name}' must be a string, number, boolean or a list of them`);
  }
  if (Object.keys(value).length > LIMITS.metadataKeys)
    throw validation(`${record}: Metadata object must have at most ${LIMITS.metadataKeys} keys`);
  const filterable = Object.fromEntries(Object.entries(value).filter(([name]) => !index.nonFilterable.has(name)));
  if (jsonBytes(filterable) > LIMITS.filterableMetadataBytes) {
    throw validation(`${record}: Filterable metadata must have at most ${LIMITS.filterableMetadataBytes} bytes`);
  }
  if (jsonBytes(value) > LIMITS.metadataBytes) throw validation(`${record}: Metadata must have at most ${LIMITS.metadataBytes} bytes`);
  return structuredClone(value);
}

type Predicate = (metadata: Metadata) => boolean;

/** Whether a stored value (or any element of a stored list) satisfies `test`. */
function some(value: unknown, test: (item: unknown) => boolean): boolean {
  return Array.isArray(value) ? value.some(test) : test(value);
}

/** Compiles one field's condition: a primitive (equality) or an object of operators. */
function compileField(field: string, condition: unknown): Predicate {
  if (isPrimitive(condition)) return (metadata) => some(metadata[field], (item) => item === condition);
  if (!isObject(condition) || Object.keys(condition).length === 0)
    throw validation(`Invalid filter for metadata key '${field}'`, '/filter');
  const tests = Object.entries(condition).map(([operator, operand]): Predicate => {
    const bad = (expected: string) => validation(`Invalid filter: ${operator} on '${field}' expects ${expected}`, '/filter');
    const isIn = (list: unknown[]) => (metadata: Metadata) => some(metadata[field], (item) => list.includes(item));
    const compare = (test: (item: number, operand: number) => boolean): Predicate => {
      if (typeof operand !== 'number' || !Number.isFinite(operand)) throw bad('a number');
      return (metadata) => some(metadata[field], (item) => typeof item === 'number' && test(item, operand));
    };
    switch (operator) {
      case '$eq':
        if (!isPrimitive(operand)) throw bad('a string, number or boolean');
        return (metadata) => some(metadata[field], (item) => item === operand);
      case '$ne':
        if (!isPrimitive(operand)) throw bad('a string, number or boolean');
        // Like MongoDB (the operators' model): a vector without the key matches $ne and $nin.
        return (metadata) => !some(metadata[field], (item) => item === operand);
      case '$gt':
        return compare((item, limit) => item > limit);
      case '$gte':
        return compare((item, limit) => item >= limit);
      case '$lt':
        return compare((item, limit) => item < limit);
      case '$lte':
        return compare((item, limit) => item <= limit);
      case '$in':
      case '$nin': {
        if (!Array.isArray(operand) || operand.length === 0 || !operand.every(isPrimitive)) throw bad('a non-empty array of primitives');
        const test = isIn(operand);
        return operator === '$in' ? test : (metadata) => !test(metadata);
      }
      case '$exists':
        if (typeof operand !== 'boolean') throw bad('a boolean');
        return (metadata) => Object.hasOwn(metadata, field) === operand;
      default:
        throw validation(`Invalid filter: unknown operator ${operator}`, '/filter');
    }
  });
  return (metadata) => tests.every((test) => test(metadata));
}

/** Compiles a filter document; a non-filterable key in it is a 400 as the user guide says. */
function compileFilter(filter: unknown, index: Index): Predicate {
  if (!isObject(filter) || Object.keys(filter).length === 0)
    throw validation('Invalid filter: a filter must be a non-empty object', '/filter');
  const parts = Object.entries(filter).map(([name, value]): Predicate => {
    if (name === '$and' || name === '$or') {
      if (!Array.isArray(value) || value.length === 0)
        throw validation(`Invalid filter: ${name} expects a non-empty array of filters`, '/filter');
      const children = value.map((child) => compileFilter(child, index));
      return name === '$and'
        ? (metadata) => children.every((child) => child(metadata))
        : (metadata) => children.some((child) => child(metadata));
    }
    if (name.startsWith('$')) throw validation(`Invalid filter: unknown operator ${name}`, '/filter');
    if (index.nonFilterable.has(name))
      throw validation(`Invalid filter: metadata key '${name}' is non-filterable and cannot be used in a filter`, '/filter');
    return compileField(name, value);
  });
  return (metadata) => parts.every((part) => part(metadata));
}

function distance(a: readonly number[], b: readonly number[], metric: Index['distanceMetric']): number {
  if (metric === 'euclidean') {
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2;
    return Math.sqrt(sum);
  }
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return 1 - dot / (Math.sqrt(na) * Math.sqrt(nb));
}

/** A stable segment of a key for parallel ListVectors. */
function segmentOf(key: string, count: number): number {
  let hash = 0;
  for (let i = 0; i < key.length; i++) hash = (hash * 31 + key.charCodeAt(i)) >>> 0;
  return hash % count;
}

/** Starts the stand-in on 127.0.0.1 (a free port). */
export async function startS3VectorsStandIn(): Promise<S3VectorsStandIn> {
  const buckets = new Map<string, Bucket>();
  const calls: StandInCall[] = [];
  const faults = new Map<string, { status: number; type: string; remaining: number }[]>();
  const now = () => Math.floor(Date.now() / 1000);

  function bucketOf(body: Record<string, unknown>): Bucket {
    const arn = body.vectorBucketArn;
    const name = typeof arn === 'string' ? /:bucket\/([^/]+)$/.exec(arn)?.[1] : body.vectorBucketName;
    if (typeof name !== 'string') throw validation('Either vectorBucketName or vectorBucketArn must be given', '/vectorBucketName');
    const bucket = buckets.get(name);
    if (!bucket) throw notFound(`The specified vector bucket could not be found: ${name}`);
    return bucket;
  }

  function indexOf(body: Record<string, unknown>): Index {
    let bucketName = body.vectorBucketName;
    let indexName = body.indexName;
    if (typeof body.indexArn === 'string') {
      const match = /:bucket\/([^/]+)\/index\/([^/]+)$/.exec(body.indexArn);
      if (!match) throw validation(`Invalid index ARN: ${body.indexArn}`, '/indexArn');
      [, bucketName, indexName] = match;
    }
    if (typeof bucketName !== 'string' || typeof indexName !== 'string') {
      throw validation('Either vectorBucketName and indexName, or indexArn, must be given', '/indexName');
    }
    const bucket = buckets.get(bucketName);
    if (!bucket) throw notFound(`The specified vector bucket could not be found: ${bucketName}`);
    const index = bucket.indexes.get(indexName);
    if (!index) throw notFound(`The specified index could not be found: ${indexName}`);
    return index;
  }

  /** Runs one operation: its output body and the call's item count. */
  function handle(operation: string, body: Record<string, unknown>): { output: Record<string, unknown>; items?: number } {
    switch (operation) {
      case 'CreateVectorBucket': {
        const name = requireString(body, 'vectorBucketName');
        checkName(name, '/vectorBucketName');
        if (!/^[a-z0-9][a-z0-9-]*[a-z0-9]$/.test(name))
          throw validation('Vector bucket names use lowercase letters, numbers and hyphens', '/vectorBucketName');
        if (buckets.has(name)) throw new ServiceError(409, 'ConflictException', `A vector bucket named ${name} already exists`);
        const arn = `arn:aws:s3vectors:${REGION}:${ACCOUNT}:bucket/${name}`;
        buckets.set(name, { name, arn, creationTime: now(), indexes: new Map() });
        return { output: { vectorBucketArn: arn } };
      }
      case 'CreateIndex': {
        const bucket = bucketOf(body);
        const name = requireString(body, 'indexName');
        checkName(name, '/indexName');
        if (body.dataType !== 'float32')
          throw validation(
            `Value '${String(body.dataType)}' at '/dataType' failed to satisfy constraint: Member must satisfy enum value set: [float32]`,
            '/dataType',
          );
        const dimension = checkInteger(body.dimension, '/dimension', LIMITS.dimensionMin, LIMITS.dimensionMax);
        const metric = body.distanceMetric;
        if (metric !== 'cosine' && metric !== 'euclidean') {
          throw validation(
            `Value '${String(metric)}' at '/distanceMetric' failed to satisfy constraint: Member must satisfy enum value set: [euclidean, cosine]`,
            '/distanceMetric',
          );
        }
        const nonFilterable = new Set<string>();
        if (body.metadataConfiguration !== undefined) {
          if (!isObject(body.metadataConfiguration)) throw validation('metadataConfiguration must be an object', '/metadataConfiguration');
          const keys = checkList(
            body.metadataConfiguration.nonFilterableMetadataKeys,
            '/metadataConfiguration/nonFilterableMetadataKeys',
            LIMITS.nonFilterableKeysMax,
          );
          for (const key of keys) {
            if (typeof key !== 'string' || characters(key) < 1 || characters(key) > LIMITS.metadataKeyNameMax) {
              throw constraint(
                '/metadataConfiguration/nonFilterableMetadataKeys/member',
                `have length between 1 and ${LIMITS.metadataKeyNameMax}`,
              );
            }
            nonFilterable.add(key);
          }
        }
        if (bucket.indexes.has(name))
          throw new ServiceError(409, 'ConflictException', `An index named ${name} already exists in ${bucket.name}`);
        const arn = `${bucket.arn}/index/${name}`;
        bucket.indexes.set(name, { name, arn, dimension, distanceMetric: metric, nonFilterable, creationTime: now(), vectors: new Map() });
        return { output: { indexArn: arn } };
      }
      case 'GetIndex': {
        const index = indexOf(body);
        const bucketName = /:bucket\/([^/]+)\/index\//.exec(index.arn)?.[1];
        return {
          output: {
            index: {
              vectorBucketName: bucketName,
              indexName: index.name,
              indexArn: index.arn,
              creationTime: index.creationTime,
              dataType: 'float32',
              dimension: index.dimension,
              distanceMetric: index.distanceMetric,
              ...(index.nonFilterable.size > 0 ? { metadataConfiguration: { nonFilterableMetadataKeys: [...index.nonFilterable] } } : {}),
            },
          },
        };
      }
      case 'PutVectors': {
        const index = indexOf(body);
        const vectors = checkList(body.vectors, '/vectors', LIMITS.vectorsPerPut);
        // The whole request is checked before anything is stored.
        const accepted = vectors.map((vector, position) => {
          const path = `/vectors/${position}`;
          if (!isObject(vector)) throw validation('Each vector must be an object', path);
          const key = checkKey(vector.key, `${path}/key`);
          const data = checkVectorData(vector.data, `${path}/data`, index, `Invalid record for key '${key}'`);
          return { key, data, metadata: checkMetadata(vector.metadata, key, index) };
        });
        for (const { key, data, metadata } of accepted) index.vectors.set(key, { data, metadata });
        return { output: {}, items: vectors.length };
      }
      case 'GetVectors': {
        const index = indexOf(body);
        const keys = checkList(body.keys, '/keys', LIMITS.keysPerGet).map((key, position) => checkKey(key, `/keys/${position}`));
        const returnData = checkBoolean(body, 'returnData');
        const returnMetadata = checkBoolean(body, 'returnMetadata');
        // Keys that are not there are left out of the answer.
        const found = keys.flatMap((key) => {
          const stored = index.vectors.get(key);
          if (!stored) return [];
          return [
            {
              key,
              ...(returnData ? { data: { float32: [...stored.data] } } : {}),
              ...(returnMetadata ? { metadata: structuredClone(stored.metadata) } : {}),
            },
          ];
        });
        return { output: { vectors: found }, items: keys.length };
      }
      case 'DeleteVectors': {
        const index = indexOf(body);
        const keys = checkList(body.keys, '/keys', LIMITS.keysPerDelete).map((key, position) => checkKey(key, `/keys/${position}`));
        for (const key of keys) index.vectors.delete(key);
        return { output: {}, items: keys.length };
      }
      case 'ListVectors': {
        const index = indexOf(body);
        const maxResults =
          body.maxResults === undefined
            ? LIMITS.listDefaultResults
            : checkInteger(body.maxResults, '/maxResults', 1, LIMITS.listMaxResults);
        const segmentCount = body.segmentCount === undefined ? 1 : checkInteger(body.segmentCount, '/segmentCount', 1, LIMITS.segmentCount);
        const segmentIndex =
          body.segmentIndex === undefined ? 0 : checkInteger(body.segmentIndex, '/segmentIndex', 0, LIMITS.segmentCount - 1);
        if ((body.segmentCount === undefined) !== (body.segmentIndex === undefined))
          throw validation('segmentCount and segmentIndex must be given together', '/segmentIndex');
        if (segmentIndex >= segmentCount) throw validation('segmentIndex must be less than segmentCount', '/segmentIndex');
        let after: string | undefined;
        if (body.nextToken !== undefined) {
          try {
            const token = JSON.parse(Buffer.from(String(body.nextToken), 'base64url').toString('utf8')) as {
              after?: unknown;
              index?: unknown;
            };
            if (typeof token.after !== 'string' || token.index !== index.arn) throw new Error('foreign token');
            after = token.after;
          } catch {
            throw validation('The provided pagination token is invalid', '/nextToken');
          }
        }
        const returnData = checkBoolean(body, 'returnData');
        const returnMetadata = checkBoolean(body, 'returnMetadata');
        const keys = [...index.vectors.keys()]
          .filter((key) => segmentCount === 1 || segmentOf(key, segmentCount) === segmentIndex)
          .filter((key) => after === undefined || key > after)
          .sort();
        const page = keys.slice(0, maxResults);
        const vectors = page.map((key) => {
          const stored = index.vectors.get(key) as StoredVector;
          return {
            key,
            ...(returnData ? { data: { float32: [...stored.data] } } : {}),
            ...(returnMetadata ? { metadata: structuredClone(stored.metadata) } : {}),
          };
        });
        const nextToken =
          keys.length > page.length
            ? Buffer.from(JSON.stringify({ after: page[page.length - 1], index: index.arn })).toString('base64url')
            : undefined;
        return { output: { vectors, ...(nextToken ? { nextToken } : {}) }, items: vectors.length };
      }
      case 'QueryVectors': {
        const index = indexOf(body);
        const topK = checkInteger(body.topK, '/topK', 1, LIMITS.topK);
        const query = checkVectorData(body.queryVector, '/queryVector', index, 'Invalid query vector');
        const matches = body.filter === undefined || body.filter === null ? () => true : compileFilter(body.filter, index);
        const returnMetadata = checkBoolean(body, 'returnMetadata');
        const returnDistance = checkBoolean(body, 'returnDistance');
        const ranked = [...index.vectors.entries()]
          .filter(([, stored]) => matches(stored.metadata))
          .map(([key, stored]) => ({ key, stored, distance: distance(query, stored.data, index.distanceMetric) }))
          .sort((a, b) => a.distance - b.distance || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
          .slice(0, topK);
        const vectors = ranked.map(({ key, stored, distance: value }) => ({
          key,
          ...(returnDistance ? { distance: Math.fround(value) } : {}),
          ...(returnMetadata ? { metadata: structuredClone(stored.metadata) } : {}),
        }));
        return { output: { vectors, distanceMetric: index.distanceMetric }, items: vectors.length };
      }
      default:
        throw new ServiceError(404, 'UnknownOperationException', `Unknown operation: ${operation}`);
    }
  }

  function send(response: ServerResponse, status: number, body: unknown, errorType?: string): void {
    const text = JSON.stringify(body);
    response.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': `standin-${calls.length}`,
      ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
    });
    response.end(text);
  }

  /** Reads a body, keeping at most the payload limit (the rest is drained and counted). */
  async function readBody(request: IncomingMessage): Promise<{ text: string; bytes: number }> {
    const parts: Buffer[] = [];
    let bytes = 0;
    for await (const part of request as AsyncIterable<Buffer>) {
      bytes += part.length;
      if (bytes <= LIMITS.payloadBytes) parts.push(part);
    }
    return { text: bytes <= LIMITS.payloadBytes ? Buffer.concat(parts).toString('utf8') : '', bytes };
  }

  const server = createServer((request, response) => {
    void (async () => {
      const operation = (request.url ?? '/').split('?')[0].replace(/^\/+/, '');
      const { text, bytes } = await readBody(request);
      const record = (status: number, items?: number) =>
        calls.push({ operation, status, bytes, ...(items === undefined ? {} : { items }) });
      const queue = faults.get(operation);
      const fault = queue?.[0];
      if (fault) {
        fault.remaining--;
        if (fault.remaining <= 0) queue.shift();
        record(fault.status);
        send(response, fault.status, { message: `Injected ${fault.type}` }, fault.type);
        return;
      }
      try {
        if (request.method !== 'POST')
          throw new ServiceError(404, 'UnknownOperationException', `${request.method} /${operation} is not an operation of this stand-in`);
        if (bytes > LIMITS.payloadBytes)
          throw validation(`Request payload size ${bytes} exceeds the limit of ${LIMITS.payloadBytes} bytes`);
        let body: unknown;
        try {
          body = text.trim() === '' ? {} : JSON.parse(text);
        } catch {
          throw new ServiceError(400, 'SerializationException', 'The request body is not valid JSON');
        }
        if (!isObject(body)) throw new ServiceError(400, 'SerializationException', 'The request body must be a JSON object');
        const { output, items } = handle(operation, body);
        record(200, items);
        send(response, 200, output);
      } catch (error) {
        const failure = error instanceof ServiceError ? error : new ServiceError(500, 'InternalServerException', String(error));
        record(failure.status);
        send(
          response,
          failure.status,
          { message: failure.message, ...(failure.fieldList ? { fieldList: failure.fieldList } : {}) },
          failure.type,
        );
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    failNext(operation, status, errorType, times = 1) {
      if (times < 1) return;
      const queue = faults.get(operation) ?? [];
      queue.push({ status, type: errorType, remaining: times });
      faults.set(operation, queue);
    },
    index(bucket, name) {
      const found = buckets.get(bucket)?.indexes.get(name);
      if (!found) return undefined;
      return new Map(
        [...found.vectors].map(([key, stored]) => [key, { data: [...stored.data], metadata: structuredClone(stored.metadata) }]),
      );
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
