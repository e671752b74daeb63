/** Child process for the memory test and the bench: reads one trace with readTrace, prints what it found and how long it took. */
import { readTrace } from '../../src/evidence/profile/index.js';

const file = process.argv[2]!;
let peakHeap = 0;
const timer = setInterval(() => {
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
}, 5);
const started = performance.now();
const summary = await readTrace(file, { signal: AbortSignal.timeout(120_000) });
const seconds = (performance.now() - started) / 1000;
clearInterval(timer);
peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
process.stdout.write(
  JSON.stringify({
    kernelCount: summary.kernelCount,
    kernelTimeUs: summary.kernelTimeUs,
    busyUs: summary.devices.map((d) => d.busyUs),
    dominantKernel: summary.dominantKernel?.name,
    complete: summary.complete,
    seconds,
    peakHeapMiB: peakHeap / 1048576,
    rssMiB: process.memoryUsage().rss / 1048576,
  }),
);
