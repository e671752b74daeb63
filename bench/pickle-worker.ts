/**
 * Child process of bench/pickle.bench.ts, so its peak RSS belongs to this measurement alone.
 *   node --expose-gc --import tsx bench/pickle-worker.ts FILE summary|replay REPEATS
 * Prints one JSON line: wall times of each run, and peak RSS growth over the first run.
 */
import { loadDumpFile, loadReplayRequests, summarizeDumps } from '../src/evidence/dump/index.js';

const [file, mode = 'summary', repeatsArg = '3'] = process.argv.slice(2);
if (!file) throw new Error('usage: pickle-worker.ts FILE summary|replay REPEATS');
const signal = new AbortController().signal;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** What one run keeps: the summary (summary mode) or the replay requests, bodies not yet built (replay mode). */
async function once(): Promise<{ requests: number; unfinished: number }> {
  if (mode === 'replay') {
    const { requests } = await loadReplayRequests(file!, { signal });
    return { requests: requests.length, unfinished: requests.filter((r) => r.unfinished).length };
  }
  const summary = summarizeDumps([await loadDumpFile(file!, { signal })]);
  return { requests: summary.counts.requests, unfinished: summary.counts.unfinished };
}

gc();
const rssBefore = process.memoryUsage().rss;
const heapBefore = process.memoryUsage().heapUsed;
const times: number[] = [];
const cpuTimes: number[] = [];
let counts = { requests: 0, unfinished: 0 };
let heapAfterFirst = 0;
for (let i = 0; i < Number(repeatsArg); i++) {
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  counts = await once();
  times.push((performance.now() - started) / 1000);
  const cpu = process.cpuUsage(cpu0);
  cpuTimes.push((cpu.user + cpu.system) / 1e6);
  if (i === 0) heapAfterFirst = process.memoryUsage().heapUsed;
  gc();
}
process.stdout.write(
  `${JSON.stringify({
    times,
    cpuTimes,
    ...counts,
    // maxRSS covers every run, but each run's result is dropped (and collected) before the next.
    peakRssGrowthBytes: process.resourceUsage().maxRSS * 1024 - rssBefore,
    heapGrowthFirstRunBytes: heapAfterFirst - heapBefore,
  })}\n`,
);
