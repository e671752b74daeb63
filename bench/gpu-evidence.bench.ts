/**
 * GPU evidence at size and on hostile input:
 *   1. the NCCL parser on one line of hex at 64 KiB → 1 MiB: linear (ms per MiB stays flat; the old
 *      marker regex took 44 s at 256 KiB);
 *   2. a log 8x the whole-read budget with a CUDA error in its middle: scan throughput of the middle (MiB/s)
 *      and whether the error line was kept;
 *   3. scanFolder over 20,000 small files with maxFiles 5,000: the prioritised read;
 *   4. findCoredumps over a folder of 2,000 files holding one CUDA ELF core.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findCoredumps } from '../src/evidence/collect/coredump-find.js';
import { readTextBounded } from '../src/evidence/files.js';
import { readNcclText } from '../src/evidence/gpu/nccl-log.js';
import { FOLDER_RECOGNIZERS, RECOGNIZERS } from '../src/evidence/registry.js';
import { scanFolder } from '../src/evidence/scan.js';
import type { BenchLog } from './run.js';

const signal = new AbortController().signal;

export default async function bench(log: BenchLog): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-gpu-evidence-'));
  try {
    for (const kib of [64, 256, 1024]) {
      const line = '0123456789abcdef'.repeat((kib * 1024) / 16);
      const t0 = performance.now();
      readNcclText(`${line}\n${line}\n`);
      const ms = performance.now() - t0;
      log(`nccl parser, 2 lines of ${kib} KiB hex: ${ms.toFixed(1)} ms (${((ms / (kib * 2)) * 1024).toFixed(1)} ms/MiB)`);
    }

    const big = path.join(dir, 'server.log');
    const handle = await open(big, 'w');
    const line = '[2026-11-28 00:55:50 TP0] Decode batch. #running-req: 12, #token: 4096, token usage: 0.31, gen throughput (token/s): 1234.5, #queue-req: 0\n';
    const chunk = line.repeat(Math.ceil((4 * 1024 * 1024) / line.length));
    const chunks = 64; // 256 MiB
    for (let i = 0; i < chunks; i++) {
      if (i === chunks / 2) await handle.write('[2026-11-28 00:55:53 TP0] RuntimeError: CUDA error: an illegal memory access was encountered\n');
      await handle.write(chunk);
    }
    await handle.close();
    const budget = 32 * 1024 * 1024;
    const t1 = performance.now();
    const text = await readTextBounded(big, budget, { signal });
    const s = (performance.now() - t1) / 1000;
    const middleMiB = (chunks * chunk.length - budget) / 1024 / 1024;
    log(`256 MiB log, 32 MiB read whole, middle ${middleMiB.toFixed(0)} MiB scanned in ${s.toFixed(2)} s (${(middleMiB / s).toFixed(0)} MiB/s); crash line kept: ${text.text.includes('illegal memory access')}`);

    const many = path.join(dir, 'many');
    await mkdir(path.join(many, 'logs'), { recursive: true });
    for (let i = 0; i < 20_000; i++) await writeFile(path.join(many, 'logs', `shard-${i}.log`), line);
    await mkdir(path.join(many, 'stacks'));
    await writeFile(path.join(many, 'stacks', 'z'), 'CUDA Exception: Warp Illegal Address\n');
    const t2 = performance.now();
    const ev = await scanFolder(many, { recognizers: RECOGNIZERS, folderRecognizers: FOLDER_RECOGNIZERS, signal });
    log(`scanFolder, 20,001 files, maxFiles 5,000: ${((performance.now() - t2) / 1000).toFixed(2)} s; cuda-gdb evidence read first: ${ev.has('cuda-gdb')}`);

    const cores = path.join(dir, 'cores');
    await mkdir(cores);
    for (let i = 0; i < 2000; i++) await writeFile(path.join(cores, `f${i}`), line);
    execFileSync('tar', ['-xJf', path.join(process.cwd(), 'test/fixtures/gpu-h200/crash.cuda-coredump.tar.xz'), '-C', cores]);
    const t3 = performance.now();
    const found = await findCoredumps({ dirs: [cores], signal });
    log(`findCoredumps, 2,001 files (one real 36 MB core): ${(performance.now() - t3).toFixed(0)} ms, found ${found.length} with ${found[0]?.cudaSections ?? 0} .cudbg sections`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
