/**
 * The benchmark's processes run compiled JavaScript, as Lambda runs the image's `dist/`: started
 * from the TypeScript sources, every process would first strip the types of each module it loads
 * (about 60 ms more cold start for this project's request path, less for the floor's few modules),
 * which no deployment pays.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

let building: Promise<{ folder: string; extension: string }> | undefined;

/** This folder compiled: beside this file when the CLI runs compiled, else built once per process. */
function compiledFolder(progress: (line: string) => void): Promise<{ folder: string; extension: string }> {
  building ??= (async () => {
    const here = fileURLToPath(import.meta.url);
    if (here.endsWith('.js')) return { folder: dirname(here), extension: 'js' };
    let tsc: string;
    try {
      tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    } catch {
      progress('TypeScript is not installed: the benchmark processes run the .ts sources (cold starts include type stripping)');
      return { folder: dirname(here), extension: 'ts' };
    }
    const root = join(dirname(here), '..');
    const out = join(root, '.cache', 'bench-build');
    progress(`compiling the project into ${out} (the benchmark's processes run compiled JavaScript, as on Lambda)`);
    await promisify(execFile)(process.execPath, [tsc, '-p', join(root, 'tsconfig.tooling.json'), '--outDir', out]);
    const folder = join(out, 'bench');
    if (!existsSync(join(folder, 'child.js'))) throw new Error(`tsc did not produce ${join(folder, 'child.js')}`);
    return { folder, extension: 'js' };
  })();
  return building;
}

/**
 * The path of a module of this folder (`child`, `aws-process`) for a process to start: compiled
 * with `tsc -p tsconfig.tooling.json` (the deployable plus bench/ and local/) into `.cache/bench-build` (once per process) when the CLI runs
 * from the sources; the TypeScript module itself without TypeScript installed.
 */
export async function benchEntry(name: 'child' | 'aws-process', progress: (line: string) => void): Promise<string> {
  const { folder, extension } = await compiledFolder(progress);
  return join(folder, `${name}.${extension}`);
}
