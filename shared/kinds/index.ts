/**
 * The registry of model kinds, as transformers.js keeps its tasks: model type -> its kind module.
 * Adding a kind is one module in this folder (see types.ts) and one line here.
 */
import type { ModelType } from '../models/types.ts';
import { imageKind } from './image.ts';
import { rerankKind } from './rerank.ts';
import { sparseKind } from './sparse.ts';
import { textKind } from './text.ts';
import type { ModelKind } from './types.ts';

export const KINDS: Readonly<Record<ModelType, ModelKind>> = Object.freeze({
  text: textKind,
  image: imageKind,
  sparse: sparseKind,
  rerank: rerankKind,
});
