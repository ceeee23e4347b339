/**
 * The local stack's live summary on stderr: files embedded, error records, the jobs queue's depth
 * and files/s while work is pending; one line when the queue drains; nothing while idle.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { PipelineConfig } from '../shared/config.ts';

/** Outputs the worker has written since the stack started. */
export interface Activity {
  /** `<key>.vectors.json` documents written. */
  readonly embedded: number;
  /** `<key>.error.json` records written. */
  readonly errors: number;
}

/** The jobs queue's messages: visible (waiting) and received but not yet deleted (in flight). */
export interface QueueDepth {
  readonly waiting: number;
  readonly inFlight: number;
}

export interface SummarySample extends Activity, QueueDepth {
  /** When the sample was taken, ms. */
  readonly at: number;
}

/** A stretch of work, from the first sample with work pending to the one that finds the queue drained. */
interface Period {
  readonly startedAt: number;
  /** The counters when it started. */
  readonly from: Activity;
  /** The last sample whose counters had moved: the drained line's time ends there, not a sample later. */
  readonly doneAt: number;
  /** When its last line was printed. */
  readonly printedAt: number;
}

export interface SummaryState {
  /** The previous sample's counters (a change since means work was done) and its time. */
  readonly last?: Activity & { readonly at: number };
  readonly period?: Period;
}

export interface SummaryOptions {
  /** A terminal: the line is redrawn in place at every sample. Otherwise a line at most every `logEveryMs`. */
  readonly tty: boolean;
  readonly logEveryMs: number;
}

function plural(count: number, singular: string, several = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : several}`;
}

function rate(files: number, seconds: number): string {
  return seconds > 0 ? (files / seconds).toFixed(1) : '0.0';
}

/**
 * The line while work is pending. Pure.
 * @example formatWorkingLine({ embedded: 12, errors: 1, waiting: 30, inFlight: 10 }, 3.1)
 * // 'working: 12 embedded, 1 error | queue 30 waiting, 10 in flight | 4.2 files/s'
 */
export function formatWorkingLine(counts: Activity & QueueDepth, seconds: number): string {
  return (
    `working: ${counts.embedded} embedded, ${plural(counts.errors, 'error')} | ` +
    `queue ${counts.waiting} waiting, ${counts.inFlight} in flight | ${rate(counts.embedded + counts.errors, seconds)} files/s`
  );
}

/**
 * The line when the queue has drained. Pure.
 * @example formatDrainedLine({ embedded: 12, errors: 1 }, 3.1) // 'queue drained: 13 files in 3.1 s (12 embedded, 1 error), 4.2 files/s'
 */
export function formatDrainedLine(counts: Activity, seconds: number): string {
  const files = counts.embedded + counts.errors;
  return `queue drained: ${plural(files, 'file')} in ${seconds.toFixed(1)} s (${counts.embedded} embedded, ${plural(counts.errors, 'error')}), ${rate(files, seconds)} files/s`;
}

/**
 * One sample's effect on the summary: the next state and what to print, if anything. Work is
 * pending while the queue holds messages or the counters moved since the last sample; the line
 * counts from where the stretch of work began. `final` marks the drained line (printed for good);
 * a stretch that produced no file (ignored notifications of the worker's own outputs) ends silently. Pure.
 */
export function stepSummary(
  state: SummaryState,
  sample: SummarySample,
  options: SummaryOptions,
): { state: SummaryState; line?: string; final?: boolean } {
  const last = { embedded: sample.embedded, errors: sample.errors, at: sample.at };
  const moved = state.last !== undefined && (state.last.embedded !== last.embedded || state.last.errors !== last.errors);
  const pending = sample.waiting + sample.inFlight > 0 || moved;
  // Files done since the previous sample began this stretch of work then.
  const begun: Period = state.period ?? {
    startedAt: moved && state.last ? state.last.at : sample.at,
    from: state.last ?? last,
    doneAt: sample.at,
    printedAt: sample.at,
  };
  const period = moved ? { ...begun, doneAt: sample.at } : begun;
  const done = { embedded: last.embedded - period.from.embedded, errors: last.errors - period.from.errors };
  const seconds = (sample.at - period.startedAt) / 1000;
  if (!pending) {
    if (!state.period || done.embedded + done.errors === 0) return { state: { last } };
    return { state: { last }, line: formatDrainedLine(done, (period.doneAt - period.startedAt) / 1000), final: true };
  }
  const due = options.tty || sample.at - period.printedAt >= options.logEveryMs;
  if (!due) return { state: { last, period } };
  return {
    state: { last, period: { ...period, printedAt: sample.at } },
    line: formatWorkingLine({ ...done, waiting: sample.waiting, inFlight: sample.inFlight }, seconds),
  };
}

/**
 * Counts the outputs an S3 client writes (PUTs and completed multipart uploads of keys ending in
 * the output or error suffix), once each succeeded: the worker's client, so what it counts is what
 * the stack did, with the embedded emulator or an external one alike.
 */
export function countOutputs(client: S3Client, pipeline: Pick<PipelineConfig, 'outputSuffix' | 'errorSuffix'>): Activity {
  const activity = { embedded: 0, errors: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'PutObjectCommand' || context.commandName === 'CompleteMultipartUploadCommand') {
        const key = (args.input as { Key?: string }).Key ?? '';
        if (key.endsWith(pipeline.outputSuffix)) activity.embedded++;
        else if (key.endsWith(pipeline.errorSuffix)) activity.errors++;
      }
      return result;
    },
    { step: 'initialize', name: 'countOutputs' },
  );
  return activity;
}

/** A stream a status line can be kept on (process.stderr). */
export interface StatusStream {
  write(chunk: string | Uint8Array, ...rest: never[]): boolean;
  readonly isTTY?: boolean;
}

/**
 * One status line kept at the bottom of a terminal: anything else written to the stream (log
 * lines) clears it first, and it is drawn again after a complete line.
 */
function statusLine(stream: StatusStream) {
  const hadOwnWrite = Object.hasOwn(stream, 'write');
  const write = stream.write;
  const raw = (text: string) => write.call(stream, text);
  let shown = '';
  stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    if (!shown) return write.call(stream, chunk, ...rest);
    raw('\r\x1b[K');
    const result = write.call(stream, chunk, ...rest);
    const complete = typeof chunk === 'string' ? chunk.endsWith('\n') : chunk.at(-1) === 0x0a;
    if (complete) raw(shown);
    return result;
  }) as StatusStream['write'];
  return {
    show(line: string): void {
      shown = line;
      raw(`\r${line}\x1b[K`);
    },
    /** Prints `line` for good (or only clears the status, without one). */
    settle(line?: string): void {
      if (shown || line) raw(`\r${line ?? ''}\x1b[K${line ? '\n' : ''}`);
      shown = '';
    },
    restore(): void {
      this.settle();
      if (hadOwnWrite) stream.write = write;
      else delete (stream as { write?: unknown }).write;
    },
  };
}

/**
 * Samples the stack every `sampleMs` and prints the summary on `stream`: on a terminal one line
 * redrawn in place, otherwise (logs, tests with stderr piped) a line every `logEveryMs` at most and
 * the drained line. `stop()` ends the timer and leaves the stream as it was.
 */
export function startSummary(options: {
  readonly activity: Activity;
  readonly queueDepth: () => Promise<QueueDepth>;
  readonly stream: StatusStream;
  readonly sampleMs?: number;
  readonly logEveryMs?: number;
}): { stop(): void } {
  const tty = options.stream.isTTY === true;
  const status = tty ? statusLine(options.stream) : undefined;
  const summaryOptions = { tty, logEveryMs: options.logEveryMs ?? 5000 };
  let state: SummaryState = {};
  let sampling = false;
  let stopped = false;
  const timer = setInterval(() => {
    if (sampling) return;
    sampling = true;
    void options
      .queueDepth()
      .then((depth) => {
        if (stopped) return;
        const step = stepSummary(state, { ...options.activity, ...depth, at: Date.now() }, summaryOptions);
        state = step.state;
        if (status) {
          if (step.final) status.settle(step.line);
          else if (step.line) status.show(step.line);
          else if (!state.period) status.settle();
        } else if (step.line) options.stream.write(`${step.line}\n`);
      })
      // The emulator stopping, or a blip: the next sample tries again.
      .catch(() => undefined)
      .finally(() => {
        sampling = false;
      });
  }, options.sampleMs ?? 1000);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      status?.restore();
    },
  };
}
