import { join } from 'node:path';
import { KINDS } from '../kinds/index.ts';
import type { Engine, EngineParts } from '../kinds/types.ts';
import { createSession } from './session/open.ts';
import { timedSession } from './session/timed.ts';

/**
 * Opens the model's engine: its session starts opening first, on its own thread, while the kind
 * loads its tokenizer or processor here and then checks the model against its contract.
 */
export async function createEngine(
  options: Omit<EngineParts, 'opening'> & { readonly modelPath?: string; readonly onRun?: (milliseconds: number) => void },
): Promise<Engine> {
  // The file to load, when not the spec's own (an int8 model's copy with its weights stored for this CPU).
  const created = createSession(options.modelPath ?? join(options.spec.dir, options.spec.file), options.session);
  const { onRun } = options;
  const opening = onRun ? created.then((session) => timedSession(session, onRun)) : created;
  try {
    return await KINDS[options.spec.type].open({ ...options, opening });
  } catch (error) {
    await opening.then((session) => session.release()).catch(() => undefined);
    throw error;
  }
}
