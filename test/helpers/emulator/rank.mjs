// One emulated scheduler rank of the SGLang emulator: titled like SGLang's (sglang::scheduler_TP<n>), so
// pgrep, py-spy and cuda-gdb find it the way they find real ranks. It writes the real NCCL COLL lines
// recorded on 2xH200 (test/fixtures/gpu-h200/hang.stdout.txt) to NCCL_DEBUG_FILE, with its own host and
// pid, and on "hang" the recorded divergence: rank 1 enters one more AllGather than rank 0.
import { appendFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const rank = Number(process.argv[process.argv.indexOf('--rank') + 1]);
process.title = `sglang::scheduler_TP${rank}`;
const recording = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'gpu-h200', 'hang.stdout.txt');
const mine = readFileSync(recording, 'utf8').split('\n').filter((l) => l.includes(` [${rank}] NCCL INFO`));
const ncclFile = process.env.NCCL_DEBUG_FILE?.replace(/%h/g, os.hostname()).replace(/%p/g, String(process.pid));
const write = (lines) => {
  if (!ncclFile || !lines.length) return;
  appendFileSync(ncclFile, lines.map((l) => l.replace(/^[^:]+:\d+:\d+ /, `${os.hostname()}:${process.pid}:${process.pid} `)).join('\n') + '\n');
};
// Before any trigger: the version line and the AllGathers both ranks did (the first two prefills).
const warm = mine.filter((l, i) => !l.includes('AllGather') || mine.slice(0, i).filter((x) => x.includes('AllGather')).length < 2);
write(warm);
process.on('message', (m) => {
  if (m === 'hang') write(mine.slice(warm.length)); // rank 1 has one AllGather more: the divergence
});
process.on('disconnect', () => process.exit(0));
setInterval(() => {}, 1 << 30);
