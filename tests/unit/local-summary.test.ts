/** The local stack's live summary: its lines and when they are printed (pure; no stack, no timers). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  formatDrainedLine,
  formatWorkingLine,
  type SummaryOptions,
  type SummarySample,
  type SummaryState,
  stepSummary,
} from '../../local/summary.ts';

const idle = { embedded: 0, errors: 0, waiting: 0, inFlight: 0 };

/** Runs samples through stepSummary; returns the lines printed (final ones marked). */
function run(samples: SummarySample[], options: SummaryOptions, state: SummaryState = {}): string[] {
  const lines: string[] = [];
  for (const sample of samples) {
    const step = stepSummary(state, sample, options);
    state = step.state;
    if (step.line) lines.push(step.final ? `final: ${step.line}` : step.line);
  }
  return lines;
}

describe('local stack summary', () => {
  test('formats the working and drained lines', () => {
    assert.equal(
      formatWorkingLine({ embedded: 12, errors: 1, waiting: 30, inFlight: 10 }, 3.1),
      'working: 12 embedded, 1 error | queue 30 waiting, 10 in flight | 4.2 files/s',
    );
    assert.equal(
      formatWorkingLine({ embedded: 0, errors: 0, waiting: 1, inFlight: 0 }, 0),
      'working: 0 embedded, 0 errors | queue 1 waiting, 0 in flight | 0.0 files/s',
    );
    assert.equal(
      formatDrainedLine({ embedded: 12, errors: 1 }, 3.1),
      'queue drained: 13 files in 3.1 s (12 embedded, 1 error), 4.2 files/s',
    );
    assert.equal(formatDrainedLine({ embedded: 1, errors: 0 }, 0.5), 'queue drained: 1 file in 0.5 s (1 embedded, 0 errors), 2.0 files/s');
  });

  test('silent while idle', () => {
    const samples = [0, 1000, 2000].map((at) => ({ ...idle, at }));
    assert.deepEqual(run(samples, { tty: true, logEveryMs: 5000 }), []);
  });

  test('on a terminal: a line per sample while work is pending, counted from where it began, then the drained line', () => {
    const samples: SummarySample[] = [
      { ...idle, embedded: 5, at: 0 }, // earlier work, already done
      { ...idle, embedded: 5, waiting: 8, inFlight: 2, at: 1000 },
      { ...idle, embedded: 10, errors: 1, waiting: 0, inFlight: 4, at: 2000 },
      { ...idle, embedded: 14, errors: 1, at: 3000 }, // counters moved: still working this sample
      { ...idle, embedded: 14, errors: 1, at: 4000 },
    ];
    assert.deepEqual(run(samples, { tty: true, logEveryMs: 5000 }), [
      'working: 0 embedded, 0 errors | queue 8 waiting, 2 in flight | 0.0 files/s',
      'working: 5 embedded, 1 error | queue 0 waiting, 4 in flight | 6.0 files/s',
      'working: 9 embedded, 1 error | queue 0 waiting, 0 in flight | 5.0 files/s',
      'final: queue drained: 10 files in 2.0 s (9 embedded, 1 error), 5.0 files/s',
    ]);
  });

  test('not on a terminal (logs, tests): a line every logEveryMs at most, and the drained line', () => {
    const samples: SummarySample[] = Array.from({ length: 12 }, (_, second) => ({
      ...idle,
      embedded: second,
      waiting: 1,
      at: second * 1000,
    }));
    samples.push({ ...idle, embedded: 12, at: 12_000 }, { ...idle, embedded: 12, at: 13_000 });
    assert.deepEqual(run(samples, { tty: false, logEveryMs: 5000 }), [
      'working: 5 embedded, 0 errors | queue 1 waiting, 0 in flight | 1.0 files/s',
      'working: 10 embedded, 0 errors | queue 1 waiting, 0 in flight | 1.0 files/s',
      'final: queue drained: 12 files in 12.0 s (12 embedded, 0 errors), 1.0 files/s',
    ]);
  });

  test('a short stretch of work is one line when not on a terminal', () => {
    const samples: SummarySample[] = [
      { ...idle, at: 0 },
      { ...idle, waiting: 1, at: 1000 },
      { ...idle, embedded: 1, at: 2000 },
      { ...idle, embedded: 1, at: 3000 },
    ];
    assert.deepEqual(run(samples, { tty: false, logEveryMs: 5000 }), [
      'final: queue drained: 1 file in 1.0 s (1 embedded, 0 errors), 1.0 files/s',
    ]);
  });

  test('files done before the first busy sample count from the previous sample', () => {
    const samples: SummarySample[] = [
      { ...idle, at: 0 },
      { ...idle, embedded: 20, waiting: 5, at: 1000 },
    ];
    assert.deepEqual(run(samples, { tty: true, logEveryMs: 5000 }), [
      'working: 20 embedded, 0 errors | queue 5 waiting, 0 in flight | 20.0 files/s',
    ]);
  });

  test('a stretch that produced no file (the notifications of its own outputs) ends silently', () => {
    const samples: SummarySample[] = [
      { ...idle, embedded: 3, at: 0 },
      { ...idle, embedded: 3, waiting: 2, at: 1000 },
      { ...idle, embedded: 3, at: 2000 },
    ];
    assert.deepEqual(run(samples, { tty: false, logEveryMs: 5000 }), []);
  });
});
