/** Tables and target checks of a benchmark report. Pure. */
import type { BenchReport, ContenderResult } from './run.ts';
import { roundRatios, type Spread } from './stats.ts';
import type { WholeProcessReport } from './whole-process.ts';

const n = (value: number | undefined, digits = 0) => (value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits));
const s = (value: Spread | undefined, digits = 0) =>
  value ? `${n(value.median, digits)} (${n(value.min, digits)}-${n(value.max, digits)})` : '-';
const ratio = (value: Spread | undefined) => (value ? `${value.median.toFixed(2)}x` : '-');

/** One Markdown table per report: every contender, failures included (never hidden). */
export function reportTable(report: BenchReport): string {
  const unit = report.type === 'image' ? 'images/s' : report.type === 'rerank' ? 'pairs/s' : 'texts/s';
  const header = `| contender | ${unit} median (min-max) | tokens/s | vs floor | vs vectorizer | p50/p95 1 item (ms) | p50/p95 8 items (ms) | p50/p95 32 items (ms) | peak RSS 64 items (MB) | cold start (ms) | note |`;
  const rows = report.results.map((r: ContenderResult) =>
    r.error && !r.itemsPerSecond
      ? `| ${r.name} | failed: ${r.error.replaceAll('|', '/').slice(0, 160)} | | | | | | | | | |`
      : `| ${r.name} | ${s(r.itemsPerSecond, 1)} | ${n(r.tokensPerSecond?.median)} | ${ratio(r.vsFloor)} | ${ratio(r.vsVectorizer)} | ${r.latency1 ? `${n(r.latency1.p50, 1)} / ${n(r.latency1.p95, 1)}` : '-'} | ${r.latency8 ? `${n(r.latency8.p50, 1)} / ${n(r.latency8.p95, 1)}` : '-'} | ${r.latency32 ? `${n(r.latency32.p50)} / ${n(r.latency32.p95)}` : '-'} | ${n(r.peakRssMb)} | ${n(r.coldStartMs?.median)} | ${r.note ?? ''}${r.error ? ` (error: ${r.error.slice(0, 80)})` : ''} |`,
  );
  return [
    `**${report.type}** — ${report.modelDir.split('/').slice(-1)[0]}/${report.modelFile}, ${report.items} items${report.tokens ? `, ${report.tokens} tokens` : ''}, ${report.threads} threads, ${report.rounds} rounds`,
    '',
    header,
    `|${header
      .split('|')
      .slice(1, -1)
      .map(() => '---')
      .join('|')}|`,
    ...rows,
  ].join('\n');
}

export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | undefined;
}

/** The issue's targets that one report can decide. `met` is undefined when a figure is missing. */
export function checkTargets(report: BenchReport): TargetCheck[] {
  const by = (name: string) => report.results.find((r) => r.name === name);
  const ours = by('vectorizer');
  const floor = by('floor');
  const checks: TargetCheck[] = [];
  const add = (target: string, value: number | undefined, bound: number, higherIsBetter: boolean) =>
    checks.push({
      target,
      measured: value === undefined ? 'missing' : `${value.toFixed(2)}x`,
      met: value === undefined ? undefined : higherIsBetter ? value >= bound : value <= bound,
    });
  const floorBound = report.type === 'text' ? 1.25 : 0.9;
  add(`${report.type}: warm speed >= ${floorBound}x the floor`, ours?.vsFloor?.median, floorBound, true);
  if (report.type === 'text') {
    for (const [size, key] of [
      [1, 'latency1'],
      [8, 'latency8'],
    ] as const) {
      const mine = ours?.[key]?.p50;
      const theirs = floor?.[key]?.p50;
      add(`text: warm p50 of ${size} text${size > 1 ? 's' : ''} <= the floor's`, mine && theirs ? mine / theirs : undefined, 1, false);
    }
    const tjs = by('transformers.js (batched)');
    add('text: >= 1.2x transformers.js at its best batching', tjs?.vsVectorizer ? 1 / tjs.vsVectorizer.median : undefined, 1.2, true);
    add(
      'cold start <= 1.15x the floor',
      ours?.coldVsFloor?.median ??
        (ours?.coldStartMs && floor?.coldStartMs ? ours.coldStartMs.median / floor.coldStartMs.median : undefined),
      1.15,
      false,
    );
  }
  const rssBound = report.type === 'sparse' ? 1.3 : 1.2;
  add(
    `${report.type}: peak RSS of 64 items <= ${rssBound}x the floor`,
    ours?.peakRssMb && floor?.peakRssMb ? ours.peakRssMb / floor.peakRssMb : undefined,
    rssBound,
    false,
  );
  return checks;
}

export function targetsTable(checks: readonly TargetCheck[]): string {
  return [
    '| target | measured | met |',
    '|---|---|---|',
    ...checks.map((c) => `| ${c.target} | ${c.measured} | ${c.met === undefined ? '?' : c.met ? 'yes' : 'NO'} |`),
  ].join('\n');
}

/** The cold scenario's targets: whole process against the floor's and transformers.js's, and memory. */
export function checkColdTargets(report: WholeProcessReport): TargetCheck[] {
  const by = (name: string) => report.results.find((result) => result.name === name);
  const ours = by('vectorizer');
  const floor = by('floor');
  const tjs = by('transformers.js');
  const label = report.modelFile.includes('quantized') ? 'int8' : 'fp32';
  const check = (target: string, value: number | undefined, met: (value: number) => boolean): TargetCheck => ({
    target,
    measured: value === undefined ? 'missing' : `${value.toFixed(2)}x`,
    met: value === undefined ? undefined : met(value),
  });
  // transformers.js's time over ours, per round, then the median.
  const overTjs = ours?.roundMs && tjs?.roundMs ? roundRatios(ours.roundMs, tjs.roundMs).median : undefined;
  return [
    check(`cold whole process (${label}): >= 1.15x the floor's`, ours?.vsFloor?.median, (value) => value >= 1.15),
    check(`cold whole process (${label}): >= 1.3x transformers.js at its best batching`, overTjs, (value) => value >= 1.3),
    check(
      `cold whole process (${label}): peak RSS <= 1.2x the floor's`,
      ours?.peakRssMb && floor?.peakRssMb ? ours.peakRssMb / floor.peakRssMb : undefined,
      (value) => value <= 1.2,
    ),
  ];
}
