import type { S3Location } from './s3.ts';

/** What a listing says of one key: there (with its ETag), not there (null), or not known (undefined: ask the object). */
export type Listed = { readonly etag: string } | null | undefined;

/**
 * The keys (and ETags) under a prefix, every page of them, or undefined when there are more than
 * `maxPages` pages (the caller then asks the objects one by one).
 */
export type ListPrefix = (bucket: string, prefix: string, maxPages: number) => Promise<Map<string, string> | undefined>;

export interface KeyListing {
  /** Whether `location` exists, from a listing shared with the other keys asked about meanwhile. */
  lookup(location: S3Location): Promise<Listed>;
}

export interface KeyListingOptions {
  /**
   * Keys of one folder, asked about within one window, that are worth a listing. One LIST costs
   * as much as 12.5 HEAD or GET requests (S3 list prices); a worker asks about two keys per file
   * per stage, so 16 keys are 8 files: fewer requests always, and fewer dollars from 13 keys on.
   */
  readonly minKeys?: number;
  /** How long requests are gathered before the listings go out (the files of a batch ask within a few ms). */
  readonly windowMs?: number;
  /** How long a prefix whose listing was too long is not listed again. */
  readonly tooLongForMs?: number;
  /** How long a prefix whose listing failed (access denied, a fault) is not listed again. */
  readonly failedForMs?: number;
  readonly now?: () => number;
}

/** The folder of a key (up to its last `/`, or '' at the bucket's root). Pure. */
export function folderOf(key: string): string {
  return key.slice(0, key.lastIndexOf('/') + 1);
}

/**
 * The longest common prefix of keys, in whole UTF-16 code points. Pure.
 * @example commonPrefix(['a/file-1.txt.vectors.json', 'a/file-12.txt']) // 'a/file-1'
 */
export function commonPrefix(keys: readonly string[]): string {
  if (keys.length === 0) return '';
  let prefix = keys[0];
  for (const key of keys) {
    let length = 0;
    while (length < prefix.length && length < key.length && prefix.charCodeAt(length) === key.charCodeAt(length)) length++;
    prefix = prefix.slice(0, length);
  }
  // Never cut a surrogate pair in two (the prefix is sent as UTF-8).
  const last = prefix.charCodeAt(prefix.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? prefix.slice(0, -1) : prefix;
}

/** The keys of one bucket and folder asked about in the current window, with their callers. */
interface Waiting {
  readonly bucket: string;
  readonly keys: Map<string, ((listed: Listed) => void)[]>;
}

/**
 * Answers "does this key exist?" for many keys with few requests: the keys asked about within a
 * window are grouped by bucket and folder, and a group of at least `minKeys` is answered by one
 * listing of their common prefix (every page, up to one page per `minKeys` keys asked, so a
 * listing never costs more requests than the HEADs it replaces). Smaller groups, listings that
 * would be longer (a large flat folder) and failed listings (a bucket the role may not list)
 * answer `undefined`, and their prefix is left alone for a while: the caller asks the object
 * itself, as it would without a listing. S3 listings are strongly consistent, so a listing made
 * after a write sees it.
 */
export function createKeyListing(list: ListPrefix, options: KeyListingOptions = {}): KeyListing {
  const minKeys = options.minKeys ?? 16;
  const windowMs = options.windowMs ?? 5;
  const tooLongForMs = options.tooLongForMs ?? 10 * 60_000;
  const failedForMs = options.failedForMs ?? 60_000;
  const now = options.now ?? Date.now;
  const waiting = new Map<string, Waiting>();
  /** `bucket/prefix` not to list until the time given (too long); `bucket/` for a bucket whose listing failed. */
  const resting = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;

  function rest(id: string, forMs: number): void {
    const time = now();
    // Bounded: expired entries go when the map grows (a long-lived worker sees many prefixes).
    if (resting.size >= 1000) for (const [key, until] of resting) if (until <= time) resting.delete(key);
    if (resting.size >= 1000) resting.clear();
    resting.set(id, time + forMs);
  }
  const isResting = (bucket: string, prefix: string) =>
    (resting.get(`${bucket}/`) ?? 0) > now() || (resting.get(`${bucket}/${prefix}`) ?? 0) > now();

  function answer(group: Waiting, listed: (key: string) => Listed): void {
    for (const [key, resolvers] of group.keys) for (const resolve of resolvers) resolve(listed(key));
  }

  async function settle(group: Waiting): Promise<void> {
    const keys = [...group.keys.keys()];
    const prefix = commonPrefix(keys);
    // A prefix found too long before, or a bucket whose listing failed: not listed for a while.
    if (keys.length < minKeys || isResting(group.bucket, prefix)) return answer(group, () => undefined);
    let listing: Map<string, string> | undefined;
    try {
      listing = await list(group.bucket, prefix, Math.max(1, Math.floor(keys.length / minKeys)));
    } catch {
      // The objects are asked one by one instead (their own requests report a lasting fault), and
      // for a while so is this prefix: a bucket the role may not list costs no failed LIST per batch.
      rest(`${group.bucket}/`, failedForMs);
      return answer(group, () => undefined);
    }
    if (!listing) {
      rest(`${group.bucket}/${prefix}`, tooLongForMs);
      return answer(group, () => undefined);
    }
    answer(group, (key) => {
      const etag = listing.get(key);
      return etag === undefined ? null : { etag };
    });
  }

  function flush(): void {
    timer = undefined;
    const groups = [...waiting.values()];
    waiting.clear();
    for (const group of groups) void settle(group);
  }

  return {
    lookup(location) {
      return new Promise<Listed>((resolve) => {
        const id = `${location.bucket}/${folderOf(location.key)}`;
        const group = waiting.get(id) ?? { bucket: location.bucket, keys: new Map() };
        waiting.set(id, group);
        const resolvers = group.keys.get(location.key) ?? [];
        resolvers.push(resolve);
        group.keys.set(location.key, resolvers);
        timer ??= setTimeout(flush, windowMs);
      });
    },
  };
}
