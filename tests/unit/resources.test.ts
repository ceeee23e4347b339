/** The local stack's (and the deploy's) notification filter: supported suffixes in both cases. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadResources, matchesRule } from '../../local/resources.ts';

test('upper-case extensions notify (.TXT, .JPG); mixed case and unknown ones do not (sync covers them)', async () => {
  const resources = await loadResources(fileURLToPath(new URL('../../localstack/resources.json', import.meta.url)));
  const [rule] = resources.notifications;
  for (const key of ['a.txt', 'a.TXT', 'photos/IMG_1.JPG', 'b.JSONL', 'c.md', 'd.PDF', 'e.csv'])
    assert.ok(matchesRule(rule, rule.bucket, key), key);
  for (const key of ['a.Md', 'a.xlsx', 'a.txt.vectors.json.parts/e/000000000-000000010'])
    assert.ok(!matchesRule(rule, rule.bucket, key), key);
});
