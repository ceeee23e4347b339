/**
 * User metadata of a source, filterable in searches: the object's `x-amz-meta-*` and a
 * Bedrock-style `<key>.metadata.json` beside it (`{"metadataAttributes": {"team": "ml"}}`), the
 * sidecar winning where both name a key. Sidecars are never embedded themselves.
 */
import { InvalidInputDataError } from '../errors.ts';

export const METADATA_SUFFIX = '.metadata.json';

export type MetadataValue = string | number | boolean;

/** Keys a metadata name may be: what S3 user metadata and the sinks' filters accept. */
const NAME = /^[A-Za-z0-9_.-]{1,63}$/;

/** True for a metadata sidecar's key; its source is the key without the suffix. */
export function isMetadataSidecar(key: string): boolean {
  return key.endsWith(METADATA_SUFFIX) && key.length > METADATA_SUFFIX.length;
}

export function sourceOfMetadataSidecar(key: string): string {
  return key.slice(0, -METADATA_SUFFIX.length);
}

/**
 * Reads a `<key>.metadata.json`: an object with `metadataAttributes`, whose values are strings,
 * numbers or booleans (Bedrock Knowledge Bases' typed form `{"value": {"type": "STRING",
 * "stringValue": ...}}` is read too).
 * @throws InvalidInputDataError naming the file and what is wrong (the source then gets an error record).
 */
export function parseMetadataSidecar(bytes: Uint8Array, uri: string): Record<string, MetadataValue> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new InvalidInputDataError(`${uri} is not valid UTF-8 JSON (${(cause as Error).message}).`, { cause });
  }
  const attributes = (parsed as { metadataAttributes?: unknown } | null)?.metadataAttributes;
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    throw new InvalidInputDataError(`${uri} must be {"metadataAttributes": {"name": value, ...}}.`);
  }
  const metadata: Record<string, MetadataValue> = {};
  for (const [name, raw] of Object.entries(attributes)) {
    const value = typedValue(raw);
    if (!NAME.test(name) || value === undefined) {
      throw new InvalidInputDataError(
        `${uri}: metadata ${JSON.stringify(name)} must have a name of 1-63 letters, digits, _ . - and a string, number or boolean value.`,
      );
    }
    metadata[name] = value;
  }
  return metadata;
}

function typedValue(raw: unknown): MetadataValue | undefined {
  if (typeof raw === 'string' || typeof raw === 'boolean' || (typeof raw === 'number' && Number.isFinite(raw))) return raw;
  const value = (raw as { value?: Record<string, unknown> } | null)?.value;
  if (!value || typeof value !== 'object') return undefined;
  for (const field of ['stringValue', 'numberValue', 'booleanValue']) if (value[field] !== undefined) return typedValue(value[field]);
  return undefined;
}

/** The source's metadata: its S3 user metadata, then the sidecar's attributes over it. */
export function sourceMetadata(
  userMetadata: Readonly<Record<string, string>>,
  sidecar: Readonly<Record<string, MetadataValue>> | undefined,
): Record<string, MetadataValue> {
  return { ...userMetadata, ...(sidecar ?? {}) };
}
