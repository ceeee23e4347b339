/**
 * Cold-start checks of a model against its contract (the catalog row, or the kind's defaults):
 * the inputs the engine feeds, the output it reads and that output's rank and size. Every failure
 * names the model, what was expected and what the ONNX file has, so a wrong file or a wrong row
 * fails the deployment's first start (and `vectorizer warmup` in the image build), not a request.
 */
import { ConfigurationError } from '../../errors.ts';
import type { InputRule, OutputRule } from '../../models/types.ts';
import type { DeclaredShape, Session } from './types.ts';

/** What the checks say about the model in their messages. */
export interface ModelLabel {
  readonly id: string;
  readonly path: string;
}

function describeRule(rule: OutputRule): string {
  const names = rule.names.map((name) => JSON.stringify(name)).join(', then ');
  return rule.onlyOne ? `its only output, or ${names}` : names;
}

function describeShape(shape: DeclaredShape | undefined): string {
  return shape ? `[${shape.join(', ')}]` : '[unknown]';
}

/**
 * The output to read: the only one when the rule allows it, else the first of the rule's names the
 * model has.
 * @example selectOutput({ outputNames: ['sentence_embedding', 'token_embeddings'], ... }, { onlyOne: true, names: ['last_hidden_state', 'sentence_embedding'] }, label) // 'sentence_embedding'
 */
export function selectOutput(session: Pick<Session, 'outputNames'>, rule: OutputRule, model: ModelLabel): string {
  const found = session.outputNames;
  if (rule.onlyOne && found.length === 1) return found[0];
  const name = rule.names.find((candidate) => found.includes(candidate));
  if (name) return name;
  throw new ConfigurationError(
    `The model ${model.id} (${model.path}) has no output this engine reads: expected ${describeRule(rule)}; found ${found.join(', ')}. ` +
      'Choose the catalog row (MODEL_FILE) or MODEL_TYPE that matches the file.',
    { details: { model_id: model.id, expected_outputs: rule.names, found_outputs: found } },
  );
}

/**
 * Checks that the model has every input the engine must feed and needs none it cannot feed.
 * @returns the inputs to feed, in the model's order.
 */
export function checkInputs(session: Pick<Session, 'inputNames'>, rules: readonly InputRule[], model: ModelLabel): string[] {
  const found = session.inputNames;
  const missing = rules.filter((rule) => rule.when === 'always' && !found.includes(rule.name)).map((rule) => rule.name);
  const unknown = found.filter((name) => !rules.some((rule) => rule.name === name));
  if (missing.length || unknown.length) {
    const expected = rules.map((rule) => (rule.when === 'always' ? rule.name : `${rule.name} (when present)`)).join(', ');
    throw new ConfigurationError(
      `The model ${model.id} (${model.path}) does not take the inputs this engine feeds: expected ${expected}; found ${found.join(', ')}` +
        `${missing.length ? ` (missing ${missing.join(', ')})` : ''}${unknown.length ? ` (not fed: ${unknown.join(', ')})` : ''}.`,
      { details: { model_id: model.id, expected_inputs: rules.map((rule) => rule.name), found_inputs: found } },
    );
  }
  return [...found];
}

/**
 * Checks the declared rank of an output and, when both are known, its last dimension.
 * A shape the model does not declare is not checked here (the engine checks each run's output).
 */
export function checkOutputShape(
  session: Pick<Session, 'shapes'>,
  output: string,
  expected: { readonly ranks: readonly number[]; readonly size?: number | null; readonly what: string },
  model: ModelLabel,
): void {
  const shape = session.shapes[output];
  if (!shape || shape.length === 0) return;
  // The vector's size is the last axis, or the channels of a [batch, channels, 1, 1] output.
  const sized = shape.length === 4 ? shape[1] : shape[shape.length - 1];
  const rankOk = expected.ranks.includes(shape.length);
  const sizeOk = !expected.size || typeof sized !== 'number' || sized === expected.size;
  if (rankOk && sizeOk) return;
  throw new ConfigurationError(
    `The model ${model.id} (${model.path}) has output ${JSON.stringify(output)} of shape ${describeShape(shape)}: expected ${expected.what}` +
      `${expected.size ? ` with ${expected.size} values per vector` : ''}.`,
    { details: { model_id: model.id, output, found_shape: shape, expected_ranks: expected.ranks, expected_size: expected.size } },
  );
}
