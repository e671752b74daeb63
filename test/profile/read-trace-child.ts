/** Child process for the memory test: reads one trace with readTrace and prints what it found. */
import { readTrace } from '../../src/evidence/profile/index.js';

const file = process.argv[2]!;
let peakHeap = 0;
const timer = setInterval(() => {
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
}, 5);
const summary = await readTrace(file, { signal: AbortSignal.timeout(120_000) });
clearInterval(timer);
peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
process.stdout.write(JSON.stringify({ kernelCount: summary.kernelCount, complete: summary.complete, peakHeapMiB: peakHeap / 1048576 }));
