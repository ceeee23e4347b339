/** Which API an HTTP event speaks, from the path each event shape carries. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pathOf, routeOf } from '../../shared/request/routes.ts';

describe('routes', () => {
  test('a Function URL or $default stage: rawPath as it is', () => {
    assert.equal(pathOf({ rawPath: '/v1/embeddings', requestContext: { stage: '$default' } }), '/v1/embeddings');
    assert.equal(pathOf({ rawPath: '/embed', requestContext: {} }), '/embed');
  });

  test('a named HTTP API stage is taken off rawPath; REST path has none to take', () => {
    assert.equal(pathOf({ rawPath: '/prod/v1/embeddings', requestContext: { stage: 'prod' } }), '/v1/embeddings');
    assert.equal(pathOf({ path: '/rerank', requestContext: { stage: 'prod' } }), '/rerank');
    // A REST path that happens to start with the stage's name keeps it (REST never includes the stage).
    assert.equal(pathOf({ path: '/prod/rerank', requestContext: { stage: 'prod' } }), '/prod/rerank');
    assert.equal(pathOf({ requestContext: {} }), '/');
  });

  test('routes match the end of the path, so base paths reach them; anything else is the invoke schema', () => {
    const cases: [string, string][] = [
      ['/v1/embeddings', 'openaiEmbeddings'],
      ['/embeddings', 'openaiEmbeddings'],
      ['/api/v1/embeddings/', 'openaiEmbeddings'],
      ['/v1/models', 'openaiModels'],
      ['/embed', 'teiEmbed'],
      ['/vectorizer/embed', 'teiEmbed'],
      ['/embed_sparse', 'teiEmbedSparse'],
      ['/rerank', 'teiRerank'],
      ['/info', 'teiInfo'],
      ['/health', 'health'],
      ['/', 'invoke'],
      ['', 'invoke'],
      ['/invoke', 'invoke'],
      ['/reembed', 'invoke'],
      ['/v1/embedding', 'invoke'],
    ];
    for (const [path, route] of cases) assert.equal(routeOf(path), route, path);
  });
});
