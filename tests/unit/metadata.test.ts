import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isMetadataSidecar, parseMetadataSidecar, sourceMetadata, sourceOfMetadataSidecar } from '../../shared/pipeline/metadata.ts';

const bytes = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

describe('metadata sidecars', () => {
  test('keys: <key>.metadata.json names its source', () => {
    assert.equal(isMetadataSidecar('docs/a.txt.metadata.json'), true);
    assert.equal(isMetadataSidecar('.metadata.json'), false);
    assert.equal(isMetadataSidecar('docs/a.json'), false);
    assert.equal(sourceOfMetadataSidecar('docs/a.txt.metadata.json'), 'docs/a.txt');
  });

  test('plain and Bedrock-typed values; the sidecar wins over x-amz-meta-*', () => {
    const parsed = parseMetadataSidecar(
      bytes({ metadataAttributes: { team: 'ml', year: { value: { type: 'NUMBER', numberValue: 2024 } }, public: true } }),
      's3://b/a.txt.metadata.json',
    );
    assert.deepEqual(parsed, { team: 'ml', year: 2024, public: true });
    assert.deepEqual(sourceMetadata({ team: 'ops', owner: 'kim' }, parsed), { team: 'ml', owner: 'kim', year: 2024, public: true });
  });

  test('malformed sidecars are refused with the file named', () => {
    for (const bad of [
      '{',
      { metadataAttributes: [] },
      { other: {} },
      { metadataAttributes: { 'bad name': 'x' } },
      { metadataAttributes: { a: { b: 1 } } },
    ])
      assert.throws(
        () => parseMetadataSidecar(bytes(bad), 's3://b/a.txt.metadata.json'),
        (error: Error & { code: string }) => error.code === 'INVALID_INPUT_DATA' && error.message.includes('s3://b/a.txt.metadata.json'),
      );
  });
});
