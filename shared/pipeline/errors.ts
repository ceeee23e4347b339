import { VectorizerError } from '../errors.ts';

/** A file type the worker does not embed (by extension, or an image for a text model). */
export class UnsupportedFileTypeError extends VectorizerError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('UNSUPPORTED_FILE_TYPE', 415, message, options);
  }
}

/** A file with nothing to embed (empty, or only whitespace). */
export class EmptyDocumentError extends VectorizerError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('EMPTY_DOCUMENT', 422, message, options);
  }
}

/**
 * Retrying cures transient faults (S3 throttling or 5xx, timeouts); every client-side problem of
 * a file (bad data, wrong type, gone, too large) stays wrong however often it is retried.
 */
export function isPermanent(error: VectorizerError): boolean {
  return error.isClientError;
}

/** The invocation's time ran out before this record was started: it goes back to the queue untouched. */
export class DeadlineExceededError extends VectorizerError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('DEADLINE_EXCEEDED', 503, message, options);
  }
}

/** A document that needs a password to open (an encrypted PDF): no retry will read it. */
export class EncryptedDocumentError extends VectorizerError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('ENCRYPTED_DOCUMENT', 422, message, options);
  }
}

/** A PDF with pages but no text on any of them (a scan): it needs OCR, which the worker does not do. */
export class NoTextLayerError extends VectorizerError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('NO_TEXT_LAYER', 422, message, options);
  }
}

/** The column CSV_TEXT_COLUMN names is not in a CSV file's header. */
export class CsvColumnNotFoundError extends VectorizerError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('CSV_COLUMN_NOT_FOUND', 422, message, options);
  }
}
