import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CATALOG, catalogIds, DEFAULT_MODEL_ID, findCatalogEntry } from '../../shared/models/catalog.ts';
import { formatModelList } from '../../shared/models/list-format.ts';
import { SHARED_DIR } from '../helpers/shared-dir.ts';

/** Model ids of every table in the seed README, when ../shared is present. */
function seedIds(): string[] | undefined {
  const path = join(SHARED_DIR, 'seed', 'serverless-vectorizer-README.md');
  if (!existsSync(path)) return undefined;
  return [...readFileSync(path, 'utf8').matchAll(/^\|[^|]+\|\s*`([^`]+)`\s*\|/gm)]
    .map((match) => match[1])
    .filter((id) => id.includes('/') && !id.includes('*') && !id.includes(' '));
}

describe('model catalog', () => {
  test('holds every model of the seed README (or a known sample without ../shared)', () => {
    const ids = seedIds() ?? [
      'Xenova/bge-small-en-v1.5',
      'Qdrant/clip-ViT-B-32-vision',
      'Qdrant/Splade_PP_en_v1',
      'BAAI/bge-reranker-base',
      'nomic-ai/nomic-embed-text-v1.5',
    ];
    assert.ok(ids.length >= 5);
    for (const id of ids) assert.ok(findCatalogEntry(id), `${id} missing`);
  });

  test('one default per (type, id), no duplicate (id, file) within a type', () => {
    const defaults = new Map<string, number>();
    const variants = new Set<string>();
    for (const entry of CATALOG) {
      const key = `${entry.type}:${entry.id}`;
      if (entry.isDefault) defaults.set(key, (defaults.get(key) ?? 0) + 1);
      const variant = `${key}:${entry.file}`;
      assert.ok(!variants.has(variant), `duplicate ${variant}`);
      variants.add(variant);
    }
    for (const key of new Set(CATALOG.map((entry) => `${entry.type}:${entry.id}`))) assert.equal(defaults.get(key), 1, key);
  });

  test('dimensions by type, and the runtime facts of known families', () => {
    for (const entry of CATALOG) {
      if (entry.type === 'sparse' || entry.type === 'rerank') assert.equal(entry.dimension, null, entry.id);
      else assert.ok((entry.dimension ?? 0) > 0, entry.id);
    }
    assert.deepEqual(findCatalogEntry('intfloat/multilingual-e5-small')?.prefixes, { query: 'query: ', passage: 'passage: ' });
    assert.equal(findCatalogEntry('Xenova/bge-small-en-v1.5')?.pooling, 'cls');
    assert.equal(findCatalogEntry('Xenova/all-MiniLM-L6-v2')?.pooling, 'mean');
    assert.equal(findCatalogEntry(DEFAULT_MODEL_ID)?.type, 'text');
  });

  test('lookup: with a file, without (the default), case-insensitive, by type', () => {
    assert.equal(findCatalogEntry('Xenova/all-MiniLM-L6-v2')?.file, 'onnx/model_quantized.onnx');
    assert.equal(findCatalogEntry('Xenova/all-MiniLM-L6-v2', 'onnx/model.onnx')?.quantized, false);
    assert.equal(findCatalogEntry('xenova/ALL-minilm-l6-v2')?.id, 'Xenova/all-MiniLM-L6-v2');
    assert.equal(findCatalogEntry('BAAI/bge-m3', undefined, 'sparse')?.type, 'sparse');
    assert.equal(findCatalogEntry('nobody/nothing'), undefined);
    assert.ok(catalogIds('rerank').includes('BAAI/bge-reranker-base'));
  });

  test('list formats: markdown tables per type, fixed-width table, JSON', () => {
    const markdown = formatModelList(CATALOG, 'markdown');
    assert.equal(markdown.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| Model ID')).length, CATALOG.length);
    assert.match(markdown, /### rerank/);
    assert.equal(JSON.parse(formatModelList(CATALOG, 'json')).length, CATALOG.length);
    const table = formatModelList(CATALOG, 'table').split('\n');
    assert.equal(table.length, CATALOG.length + 1);
    assert.match(table[0], /^Model ID\s+Type\s+Dimension/);
  });

  test('every row carries its contract, and the rows the real exports need are right', () => {
    for (const entry of CATALOG) {
      assert.ok(entry.downloads.includes(entry.file), entry.id);
      for (const extra of entry.extraFiles) assert.ok(entry.downloads.includes(extra), `${entry.id} ${extra}`);
      assert.ok(entry.output.names.length > 0 && entry.outputShape.length > 0 && entry.sources.length > 0, entry.id);
      assert.equal(entry.sparseHead !== null, entry.type === 'sparse', entry.id);
      assert.equal(entry.preprocessing !== null, entry.type === 'image', entry.id);
      if (entry.type === 'image') assert.ok(!entry.downloads.includes('config.json'), `${entry.id}: fastembed needs no config.json`);
      else assert.ok(entry.downloads.includes('tokenizer.json'), entry.id);
    }
    const m3Sparse = findCatalogEntry('BAAI/bge-m3', undefined, 'sparse');
    assert.equal(m3Sparse?.sparseHead, 'bge-m3');
    assert.deepEqual(m3Sparse?.extraFiles, ['onnx/model.onnx_data', 'onnx/Constant_7_attr__value', 'sparse_linear.pt']);
    assert.deepEqual(m3Sparse?.output.names, ['token_embeddings', 'last_hidden_state']);
    assert.ok(findCatalogEntry('BAAI/bge-m3', undefined, 'text')?.extraFiles.includes('onnx/Constant_7_attr__value'));
    assert.deepEqual(findCatalogEntry('rozgo/bge-reranker-v2-m3')?.extraFiles, ['model.onnx.data']);
    const resnet = findCatalogEntry('Qdrant/resnet50-onnx');
    assert.match(resnet?.preprocessing ?? '', /ConvNext/);
    assert.deepEqual(
      resnet?.inputs.map((input) => input.name),
      ['input'],
    );
    assert.ok((resnet?.unverified.length ?? 0) > 0, 'the output rank is not settled by any source');
    assert.deepEqual(findCatalogEntry('onnx-community/embeddinggemma-300m-ONNX')?.output, {
      onlyOne: false,
      names: ['sentence_embedding'],
    });
    assert.deepEqual(
      findCatalogEntry('Xenova/bge-small-en-v1.5')?.inputs.map((input) => `${input.name}:${input.when}`),
      ['input_ids:always', 'attention_mask:always', 'token_type_ids:if-present'],
    );
  });
});
