/**
 * A vector index that mirrors the bucket: one entry per chunk of every embedded source, keyed by
 * source bucket, key and chunk number, replaced as a whole when the source changes and removed
 * when it is deleted. Sinks (LanceDB, S3 Vectors) implement this; `none` keeps only the sidecars.
 */

/** A source object in the index's terms. */
export interface IndexSource {
  readonly bucket: string;
  readonly key: string;
}

/** One chunk of a source, as the index stores it. */
export interface IndexChunk {
  /** Position in the source's `<key>.vectors.json` `chunks` array. */
  readonly chunk: number;
  readonly vector: readonly number[];
  /** The chunk's text (stored, not filterable; cut to the sink's limit, `text_truncated` says so). */
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** Item of a `.json`/`.jsonl` source. */
  readonly item?: number;
}

/** Everything written with each chunk of one version of a source. */
export interface IndexDocument {
  readonly source: IndexSource & { readonly etag: string };
  readonly modelId: string;
  readonly createdAt: string;
  /** Filterable metadata the user attached to the source (x-amz-meta-*, `<key>.metadata.json`). */
  readonly metadata: Readonly<Record<string, string | number | boolean>>;
  readonly chunks: readonly IndexChunk[];
}

/** A search hit: where the chunk is and how close it is (cosine similarity, higher is closer). */
export interface SearchHit {
  readonly bucket: string;
  readonly key: string;
  readonly chunk: number;
  readonly start: number;
  readonly end: number;
  readonly item?: number;
  readonly score: number;
  readonly text: string;
  readonly metadata: Readonly<Record<string, string | number | boolean>>;
}

export interface SearchOptions {
  readonly topK: number;
  /** Equality on user metadata keys, all of them must match. */
  readonly filter?: Readonly<Record<string, string | number | boolean>>;
  /** Source key prefix. */
  readonly prefix?: string;
  /** Only sources of this bucket. */
  readonly bucket?: string;
}

export interface IndexSink {
  readonly name: 'lancedb' | 's3vectors';
  /** The etag the index holds for a source, or undefined when it holds none of its chunks. */
  sourceEtag(source: IndexSource): Promise<string | undefined>;
  /**
   * Makes the index hold exactly `document`'s chunks for its source: writes them (same keys
   * overwrite), then deletes the chunks of an earlier version beyond the new count.
   */
  replaceSource(document: IndexDocument): Promise<void>;
  /** Removes every chunk of a source. */
  deleteSource(source: IndexSource): Promise<void>;
  /** The sources of a bucket (under a key prefix) the index holds, by key, with the etag it holds (backfill). */
  listSources(bucket: string, prefix?: string): Promise<Map<string, string>>;
  search(vector: readonly number[], options: SearchOptions): Promise<SearchHit[]>;
  close(): Promise<void>;
}
