import { ConfigurationError } from '../../errors.ts';
import type { Session } from './types.ts';

/** Checks once, at start, that the session has the output the spec names; lists what it has if not. */
export function requireOutput(session: Session, outputName: string, modelPath: string): string {
  if (session.outputNames.includes(outputName)) return outputName;
  throw new ConfigurationError(
    `${modelPath} has no output ${JSON.stringify(outputName)}: its outputs are ${session.outputNames.join(', ')}. ` +
      'Set MODEL_TYPE or MODEL_FILE to match the model, or choose a catalog model.',
  );
}
