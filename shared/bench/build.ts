/**
 * The contender processes run compiled JavaScript, as Lambda runs the image's `dist/`: started
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

let building: Promise<string> | undefined;

/**
 * The path of the compiled `child.js`: beside this file when the CLI itself runs compiled, else
 * built once per process with `tsc -p tsconfig.build.json` into `.cache/bench-build`. Without
 * TypeScript (a production install), the TypeScript child is used and the note says so.
 */
export function childEntry(progress: (line: string) => void): Promise<string> {
  building ??= (async () => {
    const here = fileURLToPath(import.meta.url);
    if (here.endsWith('.js')) return join(dirname(here), 'child.js');
    const root = join(dirname(here), '..', '..');
    const source = join(dirname(here), 'child.ts');
    let tsc: string;
    try {
      tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    } catch {
      progress('TypeScript is not installed: contenders run from the .ts sources (cold starts include type stripping)');
      return source;
    }
    const out = join(root, '.cache', 'bench-build');
    progress(`compiling the project into ${out} (contenders run compiled JavaScript, as on Lambda)`);
    await promisify(execFile)(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', out]);
    const entry = join(out, 'shared', 'bench', 'child.js');
    if (!existsSync(entry)) throw new Error(`tsc did not produce ${entry}`);
    return entry;
  })();
  return building;
}
