import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkInputs, checkOutputShape, selectOutput } from '../../shared/engines/session/contract.ts';
import { KINDS } from '../../shared/kinds/index.ts';

const label = { id: 'org/model', path: '/models/org/model/onnx/model.onnx' };

describe('cold-start contract checks', () => {
  test("output selection follows fastembed's precedence: the only output, then the kind's names in order", () => {
    const text = KINDS.text.output;
    assert.equal(selectOutput({ outputNames: ['anything'] }, text, label), 'anything');
    assert.equal(selectOutput({ outputNames: ['pooler_output', 'last_hidden_state'] }, text, label), 'last_hidden_state');
    assert.equal(selectOutput({ outputNames: ['token_embeddings', 'sentence_embedding'] }, text, label), 'sentence_embedding');
    assert.equal(selectOutput({ outputNames: ['sentence_embedding', 'text_embeds'] }, text, label), 'text_embeds');
    assert.equal(selectOutput({ outputNames: ['last_hidden_state', 'image_embeds'] }, KINDS.image.output, label), 'image_embeds');
    // A pinned output (EmbeddingGemma) is read even when it is the only one of several.
    assert.equal(
      selectOutput({ outputNames: ['sentence_embedding'] }, { onlyOne: false, names: ['sentence_embedding'] }, label),
      'sentence_embedding',
    );
    assert.throws(
      () => selectOutput({ outputNames: ['a', 'b'] }, KINDS.rerank.output, label),
      (error: Error & { code: string }) =>
        error.code === 'CONFIGURATION_ERROR' && /org\/model .* expected its only output, or "logits"; found a, b/.test(error.message),
    );
  });

  test('inputs: the required ones must be there, optional ones are fed when present, unknown ones are refused', () => {
    const rules = KINDS.text.inputs;
    assert.deepEqual(checkInputs({ inputNames: ['input_ids', 'attention_mask'] }, rules, label), ['input_ids', 'attention_mask']);
    assert.deepEqual(checkInputs({ inputNames: ['input_ids', 'attention_mask', 'token_type_ids'] }, rules, label).length, 3);
    assert.throws(() => checkInputs({ inputNames: ['input_ids'] }, rules, label), /missing attention_mask/);
    assert.throws(
      () => checkInputs({ inputNames: ['input_ids', 'attention_mask', 'position_ids'] }, rules, label),
      /not fed: position_ids/,
    );
  });

  test('output shape: rank and, when declared, the vector size (the channels of [batch, C, 1, 1])', () => {
    const expected = { ranks: [2, 3, 4], size: 2048, what: 'a vector per image' };
    checkOutputShape({ shapes: { output: ['batch', 2048, 1, 1] } }, 'output', expected, label);
    checkOutputShape({ shapes: { output: ['batch', 'dim'] } }, 'output', expected, label);
    checkOutputShape({ shapes: {} }, 'output', expected, label);
    assert.throws(
      () => checkOutputShape({ shapes: { output: ['batch', 512] } }, 'output', expected, label),
      /\[batch, 512\]: expected a vector per image with 2048 values/,
    );
    assert.throws(() => checkOutputShape({ shapes: { output: ['batch'] } }, 'output', expected, label), /shape \[batch\]/);
  });
});
