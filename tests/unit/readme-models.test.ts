import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { withModelTables } from '../../scripts/update-model-tables.ts';
import { REPO_DIR } from '../helpers/shared-dir.ts';

test('the README model tables are exactly what `vectorizer list-models --format markdown` prints (npm run docs:models)', () => {
  const readme = readFileSync(join(REPO_DIR, 'README.md'), 'utf8');
  assert.equal(readme, withModelTables(readme));
});
