/**
 * The API key of the HTTP routes: OpenAI and TEI clients send `Authorization: Bearer <key>`. Only
 * the keys' SHA-256 digests are configured (API_KEY_SHA256), so the function's settings never
 * hold a key.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiConfig } from '../config.ts';
import { InvalidApiKeyError } from '../errors.ts';

/** A header by name, whatever its case (REST events keep the client's case, HTTP API lowercases). */
function headerOf(headers: Readonly<Record<string, string | undefined>> | null | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/**
 * Passes when no key is configured, or the call's bearer key hashes to one of the digests.
 * @throws InvalidApiKeyError naming what was missing or wrong (never the key).
 */
export function checkApiKey(headers: Readonly<Record<string, string | undefined>> | null | undefined, api: ApiConfig): void {
  if (api.keySha256.length === 0) return;
  const match = /^Bearer\s+(.+)$/i.exec(headerOf(headers, 'authorization')?.trim() ?? '');
  if (!match) {
    throw new InvalidApiKeyError(
      'This endpoint needs an API key: send it as "Authorization: Bearer <key>" (the api_key of OpenAI clients).',
    );
  }
  const digest = createHash('sha256').update(match[1].trim()).digest();
  const known = api.keySha256.some((hex) => timingSafeEqual(Buffer.from(hex, 'hex'), digest));
  if (!known) throw new InvalidApiKeyError('Incorrect API key provided.');
}
