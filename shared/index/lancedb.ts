/**
 * The LanceDB sink: an embedded LanceDB database in a folder or on S3 (`INDEX_URI`), one table per
 * model. Searches are exact (no ANN index is built: a flat scan with the filters applied first),
 * so results equal a brute-force cosine search. LanceDB wants one writer per table: every write
 * of this process goes through one queue that merges what is pending into one delete and one add.
 */
import type { Connection, Table } from '@lancedb/lancedb';
import { DependencyError } from '../errors.ts';
import { chunkKey, metadataPairs, sourceId } from './keys.ts';
import type { IndexDocument, IndexSink, IndexSource, SearchHit, SearchOptions } from './types.ts';

/** A SQL string literal (LanceDB filters are DataFusion SQL). */
function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A LIKE pattern matching keys that start with `prefix` (its own % and _ escaped). */
function prefixPattern(prefix: string): string {
  return `${literal(`${prefix.replace(/[\\%_]/g, (match) => `\\${match}`)}%`)} ESCAPE '\\'`;
}

interface Row {
  id: string;
  source: string;
  bucket: string;
  key: string;
  etag: string;
  chunk: number;
  chunks: number;
  start: number;
  end: number;
  item: number | null;
  model_id: string;
  created_at: string;
  text: string;
  metadata: string;
  meta_pairs: string[];
  vector: number[];
}

type Pending = { readonly kind: 'replace'; readonly document: IndexDocument } | { readonly kind: 'delete'; readonly source: IndexSource };

function rowsOf(document: IndexDocument): Row[] {
  const { source } = document;
  const pairs = metadataPairs(document.metadata);
  return document.chunks.map((chunk) => ({
    id: chunkKey(source, chunk.chunk),
    source: sourceId(source),
    bucket: source.bucket,
    key: source.key,
    etag: source.etag,
    chunk: chunk.chunk,
    chunks: document.chunks.length,
    start: chunk.start,
    end: chunk.end,
    item: chunk.item ?? null,
    model_id: document.modelId,
    created_at: document.createdAt,
    text: chunk.text,
    metadata: JSON.stringify(document.metadata),
    meta_pairs: pairs,
    vector: [...chunk.vector],
  }));
}

async function tableSchema(dimension: number) {
  const { Bool, Field, FixedSizeList, Float32, Int32, List, Schema, Utf8 } = await import('apache-arrow');
  const text = (name: string) => new Field(name, new Utf8(), false);
  const integer = (name: string, nullable = false) => new Field(name, new Int32(), nullable);
  return new Schema([
    text('id'),
    text('source'),
    text('bucket'),
    text('key'),
    text('etag'),
    integer('chunk'),
    integer('chunks'),
    integer('start'),
    integer('end'),
    integer('item', true),
    text('model_id'),
    text('created_at'),
    text('text'),
    new Field('text_truncated', new Bool(), true),
    text('metadata'),
    new Field('meta_pairs', new List(new Field('item', new Utf8(), true)), false),
    new Field('vector', new FixedSizeList(dimension, new Field('item', new Float32(), true)), false),
  ]);
}

/** A LanceDB failure is retried (the record goes back to the queue): the database may be busy or on S3. */
function transient(what: string, cause: unknown): DependencyError {
  return new DependencyError(`LanceDB ${what} failed (${cause instanceof Error ? cause.message : String(cause)}); retrying.`, { cause });
}

export interface LanceDbOptions {
  /** A folder or `s3://bucket/prefix`. */
  readonly uri: string;
  readonly table: string;
  readonly dimension: number;
  /** Passed to LanceDB for object stores (region, endpoint, credentials). */
  readonly storageOptions?: Record<string, string>;
}

/** Opens (or creates) the table of this model in the database at `uri`. */
export async function openLanceDbSink(options: LanceDbOptions): Promise<IndexSink> {
  const lancedb = await import('@lancedb/lancedb');
  let connection: Connection;
  let table: Table;
  try {
    connection = await lancedb.connect(options.uri, options.storageOptions ? { storageOptions: options.storageOptions } : {});
    table = (await connection.tableNames()).includes(options.table)
      ? await connection.openTable(options.table)
      : await connection.createEmptyTable(options.table, await tableSchema(options.dimension), { existOk: true });
  } catch (cause) {
    throw transient(`opening ${options.uri} table ${options.table}`, cause);
  }

  // The write queue: operations that arrive while a write runs are merged into the next one.
  let pending = new Map<string, { operation: Pending; settle: { resolve(): void; reject(error: unknown): void }[] }>();
  let writing: Promise<void> | undefined;
  async function flush(): Promise<void> {
    while (pending.size > 0) {
      const batch = pending;
      pending = new Map();
      const settles = [...batch.values()].flatMap((entry) => entry.settle);
      try {
        // Every pending source loses its rows, then the replaced ones get their new rows: the
        // last operation of a source wins, and a document is never half old and half new.
        await table.delete(`source IN (${[...batch.keys()].map(literal).join(', ')})`);
        const rows = [...batch.values()].flatMap(({ operation }) => (operation.kind === 'replace' ? rowsOf(operation.document) : []));
        if (rows.length > 0) await table.add(rows as unknown as Record<string, unknown>[]);
        for (const settle of settles) settle.resolve();
      } catch (cause) {
        const failure = transient('write', cause);
        for (const settle of settles) settle.reject(failure);
      }
    }
  }
  function enqueue(source: IndexSource, operation: Pending): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const id = sourceId(source);
      const entry = pending.get(id);
      pending.set(id, { operation, settle: [...(entry?.settle ?? []), { resolve, reject }] });
      writing ??= flush().finally(() => {
        writing = undefined;
      });
    });
  }

  return {
    name: 'lancedb',
    async sourceEtag(source) {
      try {
        const rows = await table
          .query()
          .where(`source = ${literal(sourceId(source))}`)
          .select(['etag'])
          .limit(1)
          .toArray();
        return rows[0]?.etag as string | undefined;
      } catch (cause) {
        throw transient('read', cause);
      }
    },
    async listSources(bucket, prefix) {
      await writing;
      const where = [`bucket = ${literal(bucket)}`, 'chunk = 0', ...(prefix ? [`key LIKE ${prefixPattern(prefix)}`] : [])];
      try {
        const rows = await table.query().where(where.join(' AND ')).select(['key', 'etag']).toArray();
        return new Map(rows.map((row) => [row.key as string, row.etag as string]));
      } catch (cause) {
        throw transient('read', cause);
      }
    },
    replaceSource: (document) => enqueue(document.source, { kind: 'replace', document }),
    deleteSource: (source) => enqueue(source, { kind: 'delete', source }),
    async search(vector, search: SearchOptions): Promise<SearchHit[]> {
      const where = [
        search.bucket === undefined ? undefined : `bucket = ${literal(search.bucket)}`,
        search.prefix ? `key LIKE ${prefixPattern(search.prefix)}` : undefined,
        ...metadataPairs(search.filter ?? {}).map((pair) => `array_has_any(meta_pairs, [${literal(pair)}])`),
      ].filter(Boolean);
      let query = table
        .vectorSearch([...vector])
        .distanceType('cosine')
        .limit(search.topK);
      if (where.length > 0) query = query.where(where.join(' AND '));
      let rows: Record<string, unknown>[];
      try {
        rows = (await query.toArray()) as Record<string, unknown>[];
      } catch (cause) {
        throw transient('search', cause);
      }
      return rows.map((row) => ({
        bucket: row.bucket as string,
        key: row.key as string,
        chunk: row.chunk as number,
        start: row.start as number,
        end: row.end as number,
        ...(row.item === null || row.item === undefined ? {} : { item: row.item as number }),
        score: 1 - (row._distance as number),
        text: row.text as string,
        metadata: JSON.parse(row.metadata as string) as SearchHit['metadata'],
      }));
    },
    async close() {
      await writing;
      table.close();
      connection.close();
    },
  };
}
