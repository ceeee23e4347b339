/**
 * One contender in its own process, driven by the parent over IPC, so that its memory and cold
 * start are its own. Started by run.ts: `node child.ts <spec json> <items file>`.
 */
import { readFile } from 'node:fs/promises';
import { type BenchSpec, CONTENDERS, type Contender, type Item } from './contenders.ts';

export type ChildRequest =
  | { readonly cmd: 'prepare' }
  | { readonly cmd: 'run'; readonly from: number; readonly to: number }
  | { readonly cmd: 'latency'; readonly size: number; readonly repeats: number; readonly offset?: number }
  | { readonly cmd: 'rss' }
  | { readonly cmd: 'exit' };

export type ChildReply =
  | { ok: true; ms?: number; samples?: number[]; note?: string; maxRssMb?: number; loadMs?: number }
  | { ok: false; error: string };

const send = (reply: ChildReply) => process.send?.(reply);

/**
 * This process's own peak resident memory. Linux keeps the parent's peak in getrusage's maxRSS
 * across fork and exec (every contender then reported at least the benchmark's own RSS); the
 * memory map's high-water mark (VmHWM) starts afresh at exec.
 */
async function peakRssMb(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const hwm = /^VmHWM:\s+(\d+) kB/m.exec(status);
  return hwm ? Number(hwm[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

async function loadItems(path: string): Promise<Item[]> {
  const stored = JSON.parse(await readFile(path, 'utf8')) as { texts?: string[]; images?: string[] };
  return stored.texts ?? (stored.images ?? []).map((data) => Buffer.from(data, 'base64'));
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2]) as BenchSpec;
  const items = await loadItems(process.argv[3]);
  let contender: Contender;
  const started = performance.now();
  try {
    contender = await CONTENDERS[spec.contender](spec);
  } catch (error) {
    send({ ok: false, error: `load failed: ${(error as Error).message}` });
    process.exit(0);
  }
  send({ ok: true, loadMs: performance.now() - started });
  process.on('message', async (request: ChildRequest) => {
    try {
      if (request.cmd === 'exit') process.exit(0);
      if (request.cmd === 'prepare') send({ ok: true, note: await contender.prepare?.(items) });
      if (request.cmd === 'rss') send({ ok: true, maxRssMb: await peakRssMb() });
      if (request.cmd === 'run') {
        const begin = performance.now();
        await contender.run(items.slice(request.from, request.to));
        send({ ok: true, ms: performance.now() - begin });
      }
      if (request.cmd === 'latency') {
        const samples: number[] = [];
        for (let repeat = 0; repeat < request.repeats; repeat++) {
          const from = ((request.offset ?? 0) + repeat * request.size) % Math.max(1, items.length - request.size);
          const begin = performance.now();
          await (contender.runSmall ?? contender.run)(items.slice(from, from + request.size));
          samples.push(performance.now() - begin);
        }
        send({ ok: true, samples });
      }
    } catch (error) {
      send({ ok: false, error: (error as Error).message });
    }
  });
}

await main();
