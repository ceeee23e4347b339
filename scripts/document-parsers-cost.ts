/**
 * What each document parser would add to a cold start if it were imported eagerly: for unpdf,
 * html-to-text, mammoth and csv-parse, fresh `node` processes import the parser and parse one tiny
 * sample, beside a baseline process that imports nothing. Rounds are interleaved (the order rotated
 * each round) so a burst of other work on the machine hits every contender alike; the medians are
 * printed, with the difference to the baseline. The worker imports each parser only when the first
 * file of its type comes (shared/pipeline/formats/), so these are per-type first-file costs.
 *
 * `node scripts/document-parsers-cost.ts [rounds]` (default 7, at least 5)
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile } from '../bench/stats.ts';
import { buildDocx, buildPdf } from '../tests/fixtures/document-builder.ts';

const rounds = Number(process.argv[2] ?? 7);
if (!Number.isInteger(rounds) || rounds < 5) {
  process.stderr.write('usage: node scripts/document-parsers-cost.ts [rounds] (an integer, at least 5; default 7)\n');
  process.exit(2);
}
const repo = fileURLToPath(new URL('..', import.meta.url));
const samples = await mkdtemp(join(tmpdir(), 'vectorizer-parsers-'));
await writeFile(join(samples, 'sample.pdf'), buildPdf([{ lines: ['A tiny sample page.'] }, { lines: ['And a second one.'] }]));
await writeFile(join(samples, 'sample.docx'), await buildDocx(['A tiny sample document.']));

/** The body of each child (an ES module run with --input-type=module): import, then parse the sample. */
const CONTENDERS: Record<string, string> = {
  baseline: '',
  unpdf: `const { extractText, getDocumentProxy } = await import('unpdf');
    const pdf = await getDocumentProxy(new Uint8Array(readFileSync(join(SAMPLES, 'sample.pdf'))), { verbosity: 0 });
    if (!(await extractText(pdf)).text[1].includes('second')) throw new Error('unexpected text');`,
  'html-to-text': `const { convert } = await import('html-to-text');
    if (!convert('<p>A <b>tiny</b> page</p><script>x()</script>', { wordwrap: false }).includes('tiny')) throw new Error('unexpected text');`,
  mammoth: `const { default: mammoth } = await import('mammoth');
    if (!(await mammoth.extractRawText({ buffer: readFileSync(join(SAMPLES, 'sample.docx')) })).value.includes('tiny')) throw new Error('unexpected text');`,
  'csv-parse': `const { parse } = await import('csv-parse/sync');
    if (parse('a,b\\n1,"two, three"\\n').length !== 2) throw new Error('unexpected rows');`,
};

interface Sample {
  /** From spawn to exit, as the parent sees it: node's own start-up included. */
  readonly wallMs: number;
  /** Inside the child, from its first line to the parse's end: the import and the parse alone. */
  readonly importMs: number;
  /** The child's peak resident set, MiB. */
  readonly rssMiB: number;
}

function childSource(body: string): string {
  return `const started = performance.now();
    import { readFileSync } from 'node:fs';
    import { join } from 'node:path';
    const SAMPLES = ${JSON.stringify(samples)};
    ${body}
    console.log(JSON.stringify({ importMs: performance.now() - started, rssMiB: process.resourceUsage().maxRSS / 1024 }));`;
}

function run(body: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', childSource(body)], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data) => {
      stdout += data;
    });
    child.stderr.on('data', (data) => {
      stderr += data;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`child exited with ${code}: ${stderr}`));
      resolve({ wallMs, ...JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') });
    });
  });
}

const names = Object.keys(CONTENDERS);
const results = new Map<string, Sample[]>(names.map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  // One at a time (parallel children would compete for the 2 cores), the order rotated each round.
  for (let index = 0; index < names.length; index++) {
    const name = names[(index + round) % names.length];
    results.get(name)!.push(await run(CONTENDERS[name]));
  }
  process.stderr.write(`round ${round + 1} of ${rounds}\n`);
}
await rm(samples, { recursive: true, force: true });

const median = (samples: readonly Sample[], field: keyof Sample) =>
  percentile(
    samples.map((sample) => sample[field]),
    50,
  );
const base = results.get('baseline')!;
console.log(`node ${process.version}, ${rounds} interleaved rounds, medians\n`);
console.log('| parser | wall ms (spawn to exit) | + vs baseline | import + parse ms (in the child) | peak RSS MiB | + vs baseline |');
console.log('|---|---|---|---|---|---|');
for (const [name, samples] of results) {
  const wall = median(samples, 'wallMs');
  const rss = median(samples, 'rssMiB');
  const extra = (value: number, baseline: number) => (name === 'baseline' ? '' : `+${(value - baseline).toFixed(1)}`);
  console.log(
    `| ${name} | ${wall.toFixed(0)} | ${extra(wall, median(base, 'wallMs'))} | ${median(samples, 'importMs').toFixed(1)} | ${rss.toFixed(1)} | ${extra(rss, median(base, 'rssMiB'))} |`,
  );
}
