/** What every document format gives and takes, apart from the readers (so no reader imports the registry). */

/** One embeddable text of a file: the whole file, or one item of it (a JSON array entry, a JSONL line, a PDF page, a CSV row). */
export interface TextItem {
  readonly text: string;
  /** Position of the item in the file (0-based); absent for files that are one text. */
  readonly item?: number;
  /** The PDF page the text is on (1-based). */
  readonly page?: number;
  /** The CSV/TSV data row (1-based, the header not counted). */
  readonly row?: number;
}

/** Per-format settings, from the configuration (see PipelineConfig). */
export interface DocumentOptions {
  /** `CSV_TEXT_COLUMN`: the column whose value is a row's text; unset means every column. */
  readonly csvTextColumn?: string;
  /** `MAX_INPUT_BYTES`: a container format (.docx) whose contents expand past this is refused before it is read. */
  readonly maxInputBytes?: number;
}

/**
 * Turns a file's bytes into its texts; `source` (the S3 URI) is named in every error. Empty texts
 * may be returned: the caller leaves them out.
 */
export type DocumentReader = (bytes: Uint8Array, source: string, options: DocumentOptions) => Promise<TextItem[]> | TextItem[];
