/**
 * Our side of bench/replay-first.bench.ts, in its own process (cold, like a real `triage replay`):
 *   node --import tsx bench/replay-first-worker.ts DUMP URL
 * Prints {"t0": <epoch seconds>} just before loading the dump, then loads and replays it as
 * `triage replay` does (loadReplayRequests, then runReplay at the default --parallel).
 */
import { loadReplayRequests } from '../src/evidence/dump/load.js';
import { runReplay } from '../src/replay/engine.js';

const [file, url] = process.argv.slice(2);
if (!file || !url) throw new Error('usage: replay-first-worker.ts DUMP URL');
const signal = new AbortController().signal;
process.stdout.write(`${JSON.stringify({ t0: (performance.timeOrigin + performance.now()) / 1000 })}\n`);
const { requests } = await loadReplayRequests(file, { signal });
await runReplay(requests, { target: url, timeoutMs: 120_000 }, { signal });
