import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO_DIR = fileURLToPath(new URL('../../', import.meta.url));

/** `../shared` beside the repository (or SHARED_DIR): read-only reference material, when present. */
export const SHARED_DIR = process.env.SHARED_DIR ?? fileURLToPath(new URL('../../../shared/', import.meta.url));

export const HAS_SHARED_MODELS = existsSync(join(SHARED_DIR, 'models', 'unpack-bench.sh'));

/** Why a test that needs ../shared does not run here (false when it does run). */
export const NEEDS_SHARED: string | false = HAS_SHARED_MODELS ? false : 'needs ../shared/models (present in CI)';

/**
 * Unpacks the bench models into .cache/bench-models (idempotent: the script checks checksums
 * first) and returns the folder.
 */
export function benchModelsDir(): string {
  const dest = join(REPO_DIR, '.cache', 'bench-models');
  execFileSync('bash', [join(SHARED_DIR, 'models', 'unpack-bench.sh'), dest], { stdio: 'ignore' });
  return dest;
}

export function readGolden(): Golden {
  return JSON.parse(readFileSync(join(SHARED_DIR, 'golden', 'golden-visible.json'), 'utf8'));
}

export interface Golden {
  texts: string[];
  dense: Record<string, { tokens: number[]; embeddings: number[][] }>;
  rerank: Record<string, { query: string; documents: string[]; logits: number[] }[]>;
  sparse: Record<string, { text: string; indices: number[]; values: number[] }[]>;
  image: Record<string, { file: string; width: number; height: number; embedding: number[] }[]>;
}
