/**
 * Every error the product raises on purpose. Each has a stable `code` a caller can branch on and
 * the HTTP-style `statusCode` the invoke handler answers with; 4xx messages are written for the
 * person who sent the request, 5xx details stay in the log.
 */
export class VectorizerError extends Error {
  readonly code: string;
  readonly statusCode: number;
  /** Extra, serialisable facts for the caller (e.g. the allowed values). */
  readonly details?: Record<string, unknown>;

  constructor(code: string, statusCode: number, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, { cause: options?.cause });
    this.name = new.target.name;
    this.code = code;
    this.statusCode = statusCode;
    this.details = options?.details;
  }

  get isClientError(): boolean {
    return this.statusCode >= 400 && this.statusCode < 500;
  }
}

/** The request does not match the schema (wrong shape, empty list, unknown field). */
export class InvalidRequestError extends VectorizerError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('INVALID_REQUEST', 400, message, options);
  }
}

/** The request is well formed but asks for something this model cannot do (images to a text model). */
export class UnsupportedForModelError extends VectorizerError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('UNSUPPORTED_FOR_MODEL', 400, message, options);
  }
}

/** An input is longer than the model accepts and the caller asked not to truncate. */
export class InputTooLongError extends VectorizerError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('INPUT_TOO_LONG', 400, message, options);
  }
}

/** Bytes that cannot be read as what they claim to be: non-UTF-8 text, an undecodable image. */
export class InvalidInputDataError extends VectorizerError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('INVALID_INPUT_DATA', 400, message, options);
  }
}

/** The request names a model this function does not serve (OpenAI's `model`). */
export class ModelNotFoundError extends VectorizerError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('MODEL_NOT_FOUND', 404, message, options);
  }
}

/** An HTTP call without the API key the deployment asks for (API_KEY_SHA256), or with another one. */
export class InvalidApiKeyError extends VectorizerError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('INVALID_API_KEY', 401, message, options);
  }
}

/** The HTTP method is not the one the route takes. */
export class MethodNotAllowedError extends VectorizerError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('METHOD_NOT_ALLOWED', 405, message, options);
  }
}

/** An S3 object or bucket named in the request does not exist. */
export class S3ObjectNotFoundError extends VectorizerError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('S3_OBJECT_NOT_FOUND', 404, message, options);
  }
}

/** S3 refused access (credentials, bucket policy, or an output bucket not on the allow-list). */
export class S3AccessDeniedError extends VectorizerError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('S3_ACCESS_DENIED', 403, message, options);
  }
}

/** The request or an object it names is larger than the configured limit. */
export class PayloadTooLargeError extends VectorizerError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('PAYLOAD_TOO_LARGE', 413, message, options);
  }
}

/** A transient dependency fault (S3 throttling or 5xx) that a retry may cure. */
export class DependencyError extends VectorizerError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('DEPENDENCY_ERROR', 503, message, options);
  }
}

/** Start-up configuration is wrong; the message names the variable, its value and what was expected. */
export class ConfigurationError extends VectorizerError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('CONFIGURATION_ERROR', 500, message, options);
  }
}

/** Anything not raised on purpose: a bug or an unexpected runtime fault. */
export class InternalError extends VectorizerError {
  constructor(message = 'Internal error; see the function log for details.', options?: { cause?: unknown }) {
    super('INTERNAL_ERROR', 500, message, options);
  }
}

/** The body every error becomes on the wire. */
export interface ErrorBody {
  error: { code: string; message: string; status: number; details?: Record<string, unknown> };
}

/** Wraps anything thrown into a VectorizerError, so callers handle one type. */
export function toVectorizerError(error: unknown): VectorizerError {
  if (error instanceof VectorizerError) return error;
  return new InternalError(undefined, { cause: error });
}

/** The caller-facing body: client errors say what went wrong, server errors only that it did. */
export function toErrorBody(error: VectorizerError): ErrorBody {
  const exposed = error.isClientError || error instanceof ConfigurationError || error instanceof DependencyError;
  return {
    error: {
      code: error.code,
      message: exposed ? error.message : 'Internal error; see the function log for details.',
      status: error.statusCode,
      ...(exposed && error.details ? { details: error.details } : {}),
    },
  };
}

/**
 * The whole story of a failure for a person reading a terminal or a log: the message and every
 * cause under it, including the 5xx details toErrorBody hides from callers.
 * @example describeFailure(new InternalError(undefined, { cause: new Error('boom') })) // 'Internal error; ... <- boom'
 */
export function describeFailure(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error; current !== undefined && parts.length < 8; current = (current as { cause?: unknown }).cause) {
    const message = current instanceof Error ? current.message : String(current);
    // A wrapper that already quotes its cause's message says it once.
    if (!parts.some((part) => part.includes(message))) parts.push(message);
    if (!(current instanceof Error)) break;
  }
  return parts.join(' <- ');
}
