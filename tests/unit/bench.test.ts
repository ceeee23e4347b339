import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { builtInCorpus } from '../../bench/corpus.ts';
import { checkColdTargets, checkTargets, reportTable } from '../../bench/report.ts';
import type { BenchReport } from '../../bench/run.ts';
import { percentile, roundRatios, spread } from '../../bench/stats.ts';

describe('bench corpus', () => {
  test('is deterministic for a size and seed, and differs for another seed', () => {
    assert.deepEqual(builtInCorpus(50), builtInCorpus(50));
    assert.deepEqual(builtInCorpus(80).slice(0, 50), builtInCorpus(50));
    assert.notDeepEqual(builtInCorpus(50, 1), builtInCorpus(50, 2));
    assert.equal(builtInCorpus(123).length, 123);
  });
  test('mixes short queries, sentences, paragraphs and documents past 512 tokens', () => {
    const words = builtInCorpus(300).map((text) => text.split(/\s+/).length);
    assert.ok(
      words.some((count) => count <= 10),
      'queries',
    );
    assert.ok(
      words.some((count) => count >= 12 && count <= 30),
      'sentences',
    );
    assert.ok(
      words.some((count) => count >= 60 && count <= 140),
      'paragraphs',
    );
    assert.ok(words.filter((count) => count >= 450).length >= 10, 'documents');
  });
});

describe('bench statistics', () => {
  test('ratios are taken per round, then the median (a machine speed change cancels out)', () => {
    // Round 2 ran on a machine 2x slower for both: the per-round ratio stays 2.
    const ours = [100, 200, 100];
    const floor = [200, 400, 200];
    assert.deepEqual(roundRatios(ours, floor), { median: 2, min: 2, max: 2 });
    assert.throws(() => roundRatios([1, 2], [1]), RangeError);
  });
  test('percentiles and spreads', () => {
    assert.equal(percentile([5, 1, 3, 2, 4], 50), 3);
    assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95), 10);
    assert.deepEqual(spread([3, 1, 2]), { median: 2, min: 1, max: 3 });
  });
});

describe('bench report', () => {
  const report: BenchReport = {
    type: 'text',
    modelDir: '/m/minilm',
    modelFile: 'onnx/model.onnx',
    items: 10,
    tokens: 100,
    threads: 2,
    rounds: 3,
    results: [
      {
        name: 'vectorizer',
        itemsPerSecond: { median: 10, min: 9, max: 11 },
        vsFloor: { median: 1.3, min: 1.2, max: 1.4 },
        vsVectorizer: { median: 1, min: 1, max: 1 },
        coldStartMs: { median: 1100, min: 1000, max: 1200 },
        peakRssMb: 500,
        latency1: { p50: 2, p95: 3 },
        latency8: { p50: 9, p95: 12 },
      },
      {
        name: 'floor',
        itemsPerSecond: { median: 11, min: 10, max: 12 },
        vsFloor: { median: 1, min: 1, max: 1 },
        coldStartMs: { median: 1000, min: 900, max: 1100 },
        peakRssMb: 400,
        latency1: { p50: 2.5, p95: 3 },
        latency8: { p50: 8, p95: 12 },
      },
      { name: 'fastembed', error: 'load failed: model file not found' },
    ],
  };
  test('a contender that fails is reported with its error, not left out', () => {
    const table = reportTable(report);
    assert.match(table, /\| fastembed \| failed: load failed: model file not found/);
    assert.equal(table.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| contender')).length, 3);
  });
  test('targets come from the same run; missing figures are unknown, not met', () => {
    const checks = checkTargets(report);
    assert.deepEqual(checks.find((c) => c.target.includes('floor') && c.target.includes('speed'))?.met, true);
    assert.equal(checks.find((c) => c.target.includes('transformers.js'))?.met, undefined);
    const cold = checks.find((c) => c.target.includes('cold start'));
    assert.equal(cold?.measured, '1.10x');
    assert.equal(cold?.met, true);
    assert.equal(checks.find((c) => c.target.includes('RSS'))?.met, false);
    assert.equal(checks.find((c) => c.target.includes('p50 of 1 text'))?.met, true);
    assert.deepEqual(
      checks.find((c) => c.target.includes('p50 of 8 texts')),
      {
        target: "text: warm p50 of 8 texts <= the floor's",
        measured: '1.13x',
        met: false,
      },
    );
  });
  test('cold start is judged on the per-repeat ratios when the run has them', () => {
    const [ours, ...others] = report.results;
    const withRepeats = { ...report, results: [{ ...ours, coldVsFloor: { median: 1.2, min: 1.1, max: 1.3 } }, ...others] };
    const cold = checkTargets(withRepeats).find((c) => c.target.includes('cold start'));
    assert.equal(cold?.measured, '1.20x');
    assert.equal(cold?.met, false);
  });
});

describe('cold, whole-process report', () => {
  test('ratios against the floor and transformers.js are taken per round; memory against the floor', () => {
    const result = (name: string, roundMs: number[], floorMs: number[], peakRssMb: number) => ({
      name,
      note: '',
      roundMs,
      peakRssMb,
      vsFloor: roundRatios(roundMs, floorMs),
    });
    const floorMs = [6000, 9000, 6000, 9000, 6000];
    const report = {
      modelFile: 'onnx/model_quantized.onnx',
      texts: 600,
      rounds: 5,
      results: [
        // The machine is 1.5x slower in rounds 2 and 4 for everyone: the ratios do not move.
        result('vectorizer', [5000, 7500, 5000, 7500, 5000], floorMs, 500),
        result('floor', floorMs, floorMs, 420),
        result('transformers.js', [6400, 9600, 6400, 9600, 6400], floorMs, 1100),
      ],
    };
    assert.deepEqual(checkColdTargets(report), [
      { target: "cold whole process (int8): >= 1.15x the floor's", measured: '1.20x', met: true },
      { target: 'cold whole process (int8): >= 1.3x transformers.js at its best batching', measured: '1.28x', met: false },
      { target: "cold whole process (int8): peak RSS <= 1.2x the floor's", measured: '1.19x', met: true },
    ]);
    const missing = checkColdTargets({ ...report, results: report.results.slice(0, 1) });
    assert.deepEqual(
      missing.map((check) => check.met),
      [true, undefined, undefined],
    );
  });
});

describe('index scenario', () => {
  test('fills a LanceDB table through the sink and times searches; the table reports them', async () => {
    const { indexTable, runIndexBench } = await import('../../bench/index.ts');
    const result = await runIndexBench({ chunks: 300, dimension: 16, queries: 5 });
    assert.equal(result.chunks, 300);
    assert.ok(result.writesPerSecond > 0 && result.search.p50 > 0 && result.search.p95 >= result.search.p50);
    assert.ok(result.filteredSearch.p95 >= result.filteredSearch.p50);
    assert.match(indexTable([result]), /^\| chunks \| dim \|[^\n]*\n\|---[^\n]*\n\| 300 \| 16 \| \d+ \|/);
  });
});
