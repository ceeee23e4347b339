import type { Services } from '../services.ts';
import { deleteObject, headObject, type ObjectHead, type S3Location } from '../storage/s3.ts';

/**
 * The worker's per-file existence checks. Each asks the services' listing first (one listing
 * answers the files of a batch) and the object itself only when the listing does not know.
 */
type Lookups = Pick<Services, 's3' | 'listing'>;

/** True when a listing says the object is not there (false when it is, or when no listing knows). */
export async function listedAbsent(services: Pick<Services, 'listing'>, location: S3Location): Promise<boolean> {
  return (await services.listing?.lookup(location)) === null;
}

/** HEAD of an object (its metadata), skipped when a listing says it is not there. */
export async function headUnlessUnlisted(services: Lookups, location: S3Location): Promise<ObjectHead | undefined> {
  if (await listedAbsent(services, location)) return undefined;
  return headObject(services.s3, location);
}

/** The current ETag of an object (from the listing, else its HEAD), or undefined when it is gone. */
export async function currentEtag(services: Lookups, location: S3Location): Promise<string | undefined> {
  const listed = await services.listing?.lookup(location);
  if (listed !== undefined) return listed?.etag;
  return (await headObject(services.s3, location))?.etag;
}

/** Deletes an object unless a listing says it is not there (a blind DELETE otherwise: it costs nothing). */
export async function deleteUnlessUnlisted(services: Lookups, location: S3Location): Promise<void> {
  if (await listedAbsent(services, location)) return;
  await deleteObject(services.s3, location);
}
