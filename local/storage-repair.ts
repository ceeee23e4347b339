/**
 * The emulator's object files after a crash. fauxqs writes an object as `<key>.data` then
 * `<key>.meta.json`, each with a plain writeFileSync (truncate, then write): a stack killed in
 * between leaves an empty or cut meta file, or a body of another length than its meta says, and
 * fauxqs then refuses to start ("Unexpected end of JSON input"). The write was never acknowledged
 * (fauxqs answers after both files), so its client retries it (the worker's message comes back);
 * the damaged files are moved aside, named in a warning, and the stack starts.
 */
import { mkdir, readdir, readFile, rename, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';

/** Files ending in `suffix` below `dir`, at any depth. */
async function filesBelow(dir: string, suffix: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await filesBelow(path, suffix)));
    else if (entry.name.endsWith(suffix)) found.push(path);
  }
  return found;
}

async function readMeta(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

/** An object's meta must parse, and its body must have the length the meta gives. */
async function isDamagedObject(metaPath: string): Promise<boolean> {
  const meta = await readMeta(metaPath);
  if (!meta) return true;
  const size = await sizeOf(`${metaPath.slice(0, -'.meta.json'.length)}.data`);
  return typeof meta.contentLength === 'number' && size !== meta.contentLength;
}

/**
 * Moves the damaged files of the emulator's object store (`s3Dir`, fauxqs's s3StorageDir) into
 * `quarantineDir`, keeping their paths; returns the paths moved (relative to `s3Dir`).
 */
export async function quarantineDamagedObjects(s3Dir: string, quarantineDir: string): Promise<string[]> {
  const damaged: string[] = [];
  for (const metaPath of await filesBelow(join(s3Dir, 'buckets'), '.meta.json')) {
    if (await isDamagedObject(metaPath)) damaged.push(metaPath, `${metaPath.slice(0, -'.meta.json'.length)}.data`);
  }
  for (const metaPath of [
    ...(await filesBelow(join(s3Dir, 'buckets'), '.bucket.json')),
    ...(await filesBelow(join(s3Dir, '_multipart'), '.json')),
  ]) {
    if (!(await readMeta(metaPath))) damaged.push(metaPath);
  }
  const moved: string[] = [];
  for (const path of damaged) {
    if ((await sizeOf(path)) === undefined) continue;
    const target = join(quarantineDir, relative(s3Dir, path));
    await mkdir(dirname(target), { recursive: true });
    await rename(path, target);
    moved.push(relative(s3Dir, path));
  }
  return moved;
}
