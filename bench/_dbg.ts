import { spawn } from 'node:child_process';
import { runReplay } from '../src/replay/engine.js';
const child = spawn(process.execPath, ['bench/replay-target.mjs'], { env: { ...process.env, DELAY_MS: '20' }, stdio: ['pipe', 'pipe', 'inherit'] });
const port = await new Promise<number>((r) => child.stdout.once('data', (d: Buffer) => r(Number(d.toString()))));
let x = 42;
const rand = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const times = Array.from({ length: 5000 }, () => 1_700_000_000 + rand() * 5).sort((a, b) => a - b);
const reqs = times.map((createdAt, index) => ({ index, createdAt, body: { text: 'hi' }, stream: false, unfinished: false }));
for (const spin of [2, 2, 0]) {
  const run = await runReplay(reqs, { target: `http://127.0.0.1:${port}`, parallel: 512 }, { signal: new AbortController().signal, spinMs: spin });
  const bad = run.results.filter((r) => r.startErrorMs! > 5);
  console.log('spin', spin, 'bad', bad.length, bad.slice(0, 40).map((r) => `${r.plannedStartMs.toFixed(0)}:${r.startErrorMs!.toFixed(1)}`).join(' '));
}
child.stdin.end();
