/**
 * Merges concurrent calls into one. While a run is in progress, new calls wait and are then run
 * together, so many small callers (the records of an SQS batch, each with a file or two) share
 * token-budget batches instead of each running its own small ones.
 *
 * @example
 * const embed = coalesce((texts: string[]) => engine.embed(texts, options).then((r) => r.embeddings));
 * const [a, b] = await Promise.all([embed(['x']), embed(['y', 'z'])]); // one engine call
 */
export function coalesce<Input, Output>(runAll: (inputs: Input[]) => Promise<Output[]>): (inputs: Input[]) => Promise<Output[]> {
  interface Pending {
    inputs: Input[];
    resolve: (outputs: Output[]) => void;
    reject: (error: unknown) => void;
  }
  let queue: Pending[] = [];
  let running = false;
  let scheduled = false;

  async function drain(): Promise<void> {
    running = true;
    while (queue.length > 0) {
      const group = queue;
      queue = [];
      try {
        const outputs = await runAll(group.flatMap((pending) => pending.inputs));
        let offset = 0;
        for (const pending of group) {
          pending.resolve(outputs.slice(offset, offset + pending.inputs.length));
          offset += pending.inputs.length;
        }
      } catch (error) {
        if (group.length === 1) group[0].reject(error);
        // One bad input (an undecodable image) must not fail its neighbours: run each alone.
        else for (const pending of group) await runAll(pending.inputs).then(pending.resolve, pending.reject);
      }
    }
    running = false;
  }

  return (inputs: Input[]) =>
    new Promise<Output[]>((resolve, reject) => {
      if (inputs.length === 0) return resolve([]);
      queue.push({ inputs, resolve, reject });
      // setImmediate lets the callers that start in the same tick join the first run.
      if (!running && !scheduled) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          void drain();
        });
      }
    });
}
