import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TextTokenizer } from '../../shared/engines/tokenizer.ts';
import { chunkText } from '../../shared/pipeline/chunking.ts';
import { tinyModel } from '../helpers/tiny.ts';

describe('tokenizer: long unbroken runs', () => {
  let model: Awaited<ReturnType<typeof tinyModel>>;
  let tokenizer: TextTokenizer;
  before(async () => {
    model = await tinyModel('text', { maxTokens: 16 });
    tokenizer = await TextTokenizer.load(model.dir, 16);
  });
  after(async () => {
    await model?.cleanup();
  });

  test('a run longer than WordPiece reads (100 characters) is split, not one [UNK]', () => {
    const run = 'catsit'.repeat(100); // 600 characters, no spaces
    assert.ok(tokenizer.tokenize(run).length >= 6, 'one token at least per 100 characters');
    assert.deepEqual(tokenizer.tokenize('the cat sits'), ['the', 'cat', 'sits'], 'ordinary text is unchanged');
    const encoded = tokenizer.encode(`the cat ${run.repeat(3)}`, true);
    assert.equal(encoded.truncated, true, 'the split run fills the input, as it would if it were words');
  });

  test('chunking counts the same pieces: a long run is several chunks, offsets into the original text', () => {
    const text = `hello world ${'a1b2c3d4e5'.repeat(200)} the end`;
    const chunks = chunkText(text, (piece) => tokenizer.tokenize(piece).length, { maxTokens: 8, overlapTokens: 0 });
    assert.ok(chunks.length >= 3, `${chunks.length} chunks`);
    assert.equal(chunks[0].start, 0);
    assert.equal(chunks[chunks.length - 1].end, text.length);
    for (const chunk of chunks) assert.ok(tokenizer.tokenize(text.slice(chunk.start, chunk.end)).length <= 8);
  });
});
