/**
 * The time an invocation has: Lambda's remaining time, or the local event source's timeout. Work
 * checks it before each slice it starts; what does not fit is continued (texts) or handed back to
 * the queue (other records).
 */
export interface Deadline {
  /** Milliseconds left before the invocation must have answered (minus the reserve for writing up). */
  remainingMs(): number;
  /** What remainingMs() was when the invocation started. */
  readonly budgetMs: number;
}

/** Time kept back at the end of an invocation for writing outputs, parts and continuations. */
export const DEADLINE_RESERVE_MS = 5_000;

/** A deadline that never comes (the CLI, tests of other things, an event without a context). */
export const NO_DEADLINE: Deadline = { remainingMs: () => Number.POSITIVE_INFINITY, budgetMs: Number.POSITIVE_INFINITY };

/**
 * The deadline of an invocation from its context (`getRemainingTimeInMillis`, asked each time: a
 * local stack that is stopping shortens it), less the reserve: 5 s, or a quarter of a short budget.
 */
export function deadlineOf(context: { getRemainingTimeInMillis?: () => number } | undefined): Deadline {
  const remaining = context?.getRemainingTimeInMillis?.();
  if (remaining === undefined || !Number.isFinite(remaining) || !context?.getRemainingTimeInMillis) return NO_DEADLINE;
  const reserve = Math.min(DEADLINE_RESERVE_MS, remaining / 4);
  const left = context.getRemainingTimeInMillis.bind(context);
  return { remainingMs: () => left() - reserve, budgetMs: remaining - reserve };
}

/**
 * Learns how long embedding takes here (milliseconds per token, as the records of an invocation
 * see it, sharing the engine) and says how many tokens fit in what is left. Before its
 * first sample it lets one slice go: the slice sizes are bounded by the batch budget.
 */
export class Pace {
  private msPerToken: number | undefined;

  record(tokens: number, elapsedMs: number): void {
    if (tokens <= 0 || elapsedMs <= 0) return;
    const sample = elapsedMs / tokens;
    // The slower of the last sample and a decaying average: contention grows as records join.
    this.msPerToken = this.msPerToken === undefined ? sample : Math.max(sample, 0.7 * this.msPerToken + 0.3 * sample);
  }

  /** Estimated milliseconds for `tokens`, or undefined before any sample. */
  estimateMs(tokens: number): number | undefined {
    return this.msPerToken === undefined ? undefined : this.msPerToken * tokens;
  }

  /**
   * Tokens expected to finish before the deadline: none when it has passed, unbounded before the
   * first sample.
   */
  tokensBefore(deadline: Deadline): number {
    const remaining = deadline.remainingMs();
    if (remaining <= 0) return 0;
    return this.msPerToken === undefined ? Number.POSITIVE_INFINITY : Math.floor(remaining / this.msPerToken);
  }
}
