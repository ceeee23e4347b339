import { z } from 'zod';
import { deleteKeys, getObject, listKeys, putJson } from '../storage/s3.ts';
import { type ChunkOutput, chunkOutputSchema, outputLocation } from './outputs.ts';
import { type ChunkRange, parsePartKey, partKey, partsPrefix, partsRoot } from './parts.ts';
import type { PipelineServices } from './publish.ts';

/** A stored part: the outputs of chunks from..to and their texts (for the index). */
const storedPartSchema = z.strictObject({ chunks: z.array(chunkOutputSchema), texts: z.array(z.string()) });
export type StoredPart = z.infer<typeof storedPartSchema>;

/** Where the parts of one version of a source live (in the output bucket, beside the output). */
export function partsPlace(source: { bucket: string; key: string }, etag: string, services: PipelineServices) {
  const output = outputLocation(source, services.config.pipeline);
  return { bucket: output.bucket, prefix: partsPrefix(output.key, etag), root: partsRoot(output.key) };
}

type Place = ReturnType<typeof partsPlace>;

export async function storePart(
  services: PipelineServices,
  place: Place,
  range: ChunkRange,
  chunks: readonly ChunkOutput[],
  texts: readonly string[],
): Promise<void> {
  await putJson(services.s3, { bucket: place.bucket, key: partKey(place.prefix, range) }, { chunks, texts });
}

/** The ranges stored for one version of a source. */
export async function storedRanges(services: PipelineServices, place: Place): Promise<ChunkRange[]> {
  const keys = await listKeys(services.s3, place.bucket, place.prefix);
  return keys.flatMap((key) => {
    const range = parsePartKey(place.prefix, key);
    return range ? [range] : [];
  });
}

export async function readPart(services: PipelineServices, place: Place, range: ChunkRange): Promise<StoredPart> {
  const location = { bucket: place.bucket, key: partKey(place.prefix, range) };
  const { bytes } = await getObject(services.s3, location, Number.MAX_SAFE_INTEGER);
  const part = storedPartSchema.parse(JSON.parse(Buffer.from(bytes).toString('utf8')));
  if (part.chunks.length !== range.to - range.from || part.texts.length !== part.chunks.length) {
    throw new Error(`The stored part ${location.key} holds ${part.chunks.length} chunks; its name says ${range.to - range.from}.`);
  }
  return part;
}

/**
 * Removes the stored parts of one version of a source (`etag`), or of every version (once its
 * output is written, or it is gone or refused).
 */
export async function deleteParts(services: PipelineServices, source: { bucket: string; key: string }, etag?: string): Promise<void> {
  const place = partsPlace(source, etag ?? '', services);
  const prefix = etag === undefined ? place.root : place.prefix;
  await deleteKeys(services.s3, place.bucket, await listKeys(services.s3, place.bucket, prefix));
}
