/**
 * Preloaded (`node --import`) into the benchmark's whole processes: at exit, writes the process's
 * own peak resident memory to stderr as `peak-rss-kb: N`. VmHWM starts afresh at exec (getrusage's
 * maxRSS would carry the parent's peak across fork); stdout stays the command's result alone.
 */
import { readFileSync, writeSync } from 'node:fs';

process.on('exit', () => {
  const status = readFileSync('/proc/self/status', 'utf8');
  const hwm = /^VmHWM:\s+(\d+) kB/m.exec(status);
  writeSync(2, `\npeak-rss-kb: ${hwm ? hwm[1] : Math.round(process.resourceUsage().maxRSS)}\n`);
});
