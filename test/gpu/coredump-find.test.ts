import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCoredumpsDetailed as findCoredumps } from '../../src/evidence/collect/coredump-find.js';
import { REAL } from './helpers.js';
import { makeElf } from './elf-core-fixture.js';

const signal = new AbortController().signal;
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'coredump-find-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function folder(name: string): Promise<string> {
  const dir = path.join(tmp, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

describe('findCoredumps: CUDA coredumps by content, never by name', () => {
  it('finds the real H200 coredump under a name that says nothing, and counts its .cudbg sections', async () => {
    const dir = await folder('real');
    execFileSync('tar', ['-xJf', path.join(REAL, 'crash.cuda-coredump.tar.xz'), '-C', dir]);
    execFileSync('mv', [path.join(dir, 'art/cores/cuda_coredump_vm.677.1795827351'), path.join(dir, 'art/cores/blob.bin')]);
    const r = await findCoredumps({ dirs: [dir], signal });
    expect(r.candidates).toHaveLength(1);
    expect(r.candidates[0]).toMatchObject({ file: path.join(dir, 'art/cores/blob.bin'), via: 'folder', truncated: false });
    expect(r.candidates[0]!.cudaSections).toBeGreaterThan(3000);
  });

  it('accepts CUDA state by header or by .cudbg sections; rejects text named like a core and host cores without CUDA', async () => {
    const dir = await folder('mixed');
    await writeFile(path.join(dir, 'notes.txt'), makeElf());
    await writeFile(path.join(dir, 'core.cuda.node.1.2'), 'not a core at all, whatever the name says\n'.repeat(4));
    await writeFile(path.join(dir, 'cuda_coredump_host.3.4'), makeElf({ machine: 62, osabi: 0, sections: ['.note0', '.reg'] }));
    await writeFile(path.join(dir, 'x86-with-cudbg'), makeElf({ machine: 62, osabi: 0, sections: ['.note0', '.cudbg.devtbl'] }));
    await writeFile(path.join(dir, 'cuda-exec-not-core'), makeElf({ type: 2 }));
    await writeFile(path.join(dir, 'host-core-cuda-note'), makeElf({ machine: 62, osabi: 0, sections: ['.note0'], notes: [{ name: 'CORE', type: 1 }, { name: 'NVIDIA CUDA', type: 0x1000 }] }));
    await writeFile(path.join(dir, 'host-core-plain-notes'), makeElf({ machine: 62, osabi: 0, sections: ['.note0'], notes: [{ name: 'CORE', type: 1 }, { name: 'LINUX', type: 0x200 }] }));
    const r = await findCoredumps({ dirs: [dir], signal, limit: 20 });
    expect(r.candidates.map((c) => path.basename(c.file)).sort()).toEqual(['host-core-cuda-note', 'notes.txt', 'x86-with-cudbg']);
    expect(r.candidates.find((c) => c.file.endsWith('notes.txt'))?.cudaSections).toBe(6);
  });

  it('reads the path from the driver line in the log, and says why a named path was rejected', async () => {
    const elsewhere = await folder('elsewhere');
    const core = path.join(elsewhere, 'gpu-state');
    await writeFile(core, makeElf());
    const fake = path.join(elsewhere, 'fake');
    await writeFile(fake, 'plain text');
    const log = [
      '[00:55:53.351244] coredump: Detected an exception of type CUDBG_EXCEPTION_WARP_OUT_OF_RANGE_ADDRESS (5)',
      `[00:55:54.000000] coredump: Writing ELF file to ${core}`,
      `[00:55:55.000000] coredump: Writing ELF file to ${fake}`,
      `[00:55:56.000000] coredump: Writing ELF file to ${path.join(elsewhere, 'gone')}`,
      '[00:55:57.000000] coredump: All done',
    ].join('\n');
    const r = await findCoredumps({ dirs: [await folder('empty')], logText: log, signal });
    expect(r.candidates).toEqual([expect.objectContaining({ file: core, via: 'driver-log' })]);
    expect(r.rejected).toEqual([
      { path: fake, reason: 'too small to be an ELF file' },
      { path: path.join(elsewhere, 'gone'), reason: 'no such file' },
    ]);
  });

  it("follows SGLang's layout: <crash-dump-folder>/<host>/core.cuda.*, and the folder its Auto-set log line names", async () => {
    const crash = await folder('crash-dumps');
    await mkdir(path.join(crash, 'node-7'));
    await writeFile(path.join(crash, 'node-7', 'core.cuda.1795827351.677'), makeElf());
    const other = await folder('autoset/node-7');
    await writeFile(path.join(other, 'anything'), makeElf());
    // python/sglang/srt/server_args.py `_handle_crash_dump_env` logs this for each variable it sets.
    const log = `[2026-11-28 01:00:00] Auto-set CUDA_COREDUMP_FILE=${path.join(tmp, 'autoset')}/%h/core.cuda.%t.%p (from --crash-dump-folder)\n`;
    const r = await findCoredumps({ dirs: [crash], logText: log, host: 'node-7', signal });
    expect(r.candidates.map((c) => [path.relative(tmp, c.file), c.via]).sort()).toEqual([
      ['autoset/node-7/anything', 'sglang-folder'],
      ['crash-dumps/node-7/core.cuda.1795827351.677', 'sglang-folder'],
    ]);
  });

  it('never follows a symlink and never opens a FIFO, whatever it is called', async () => {
    const outside = await folder('outside');
    await writeFile(path.join(outside, 'real-core'), makeElf());
    const dir = await folder('links');
    await symlink(path.join(outside, 'real-core'), path.join(dir, 'core.cuda.link'));
    await symlink(outside, path.join(dir, 'subdir-link'));
    execFileSync('mkfifo', [path.join(dir, 'core.cuda.fifo')]);
    const r = await findCoredumps({ dirs: [dir], signal, logText: `coredump: Writing ELF file to ${path.join(dir, 'core.cuda.fifo')}\n` });
    expect(r.candidates).toEqual([]);
    expect(r.rejected).toEqual([{ path: path.join(dir, 'core.cuda.fifo'), reason: 'not a regular file' }]);
  });

  it('a dump cut before its section table is still a candidate, marked truncated; newest first, up to the limit', async () => {
    const dir = await folder('order');
    const full = makeElf();
    await writeFile(path.join(dir, 'a'), full.subarray(0, 200));
    await writeFile(path.join(dir, 'b'), full);
    await writeFile(path.join(dir, 'c'), full);
    await utimes(path.join(dir, 'a'), 3000, 3000);
    await utimes(path.join(dir, 'b'), 1000, 1000);
    await utimes(path.join(dir, 'c'), 2000, 2000);
    const r = await findCoredumps({ dirs: [dir], signal, limit: 2 });
    expect(r.candidates.map((c) => [path.basename(c.file), c.truncated])).toEqual([
      ['a', true],
      ['c', false],
    ]);
  });

  it('since: only the dumps of this run; an older one the log names is rejected with the reason', async () => {
    const dir = await folder('since');
    await writeFile(path.join(dir, 'old'), makeElf());
    await writeFile(path.join(dir, 'new'), makeElf());
    await utimes(path.join(dir, 'old'), 1000, 1000);
    const r = await findCoredumps({ dirs: [dir], signal, since: 5_000_000, logText: `coredump: Writing ELF file to ${path.join(dir, 'old')}\n` });
    expect(r.candidates.map((c) => path.basename(c.file))).toEqual(['new']);
    expect(r.rejected).toEqual([{ path: path.join(dir, 'old'), reason: 'older than this run' }]);
  });

  it('stops at the entry budget and says so', async () => {
    const dir = await folder('many');
    for (let i = 0; i < 30; i++) await writeFile(path.join(dir, `f${i}`), 'x');
    const r = await findCoredumps({ dirs: [dir], signal, maxEntries: 10 });
    expect(r.truncated).toBe(true);
  });

  it('mutated ELF files never throw and never stall: each is a candidate or rejected with a reason', async () => {
    const dir = await folder('mutants');
    const base = makeElf({ notes: [{ name: 'CORE', type: 1 }] });
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    for (let i = 0; i < 300; i++) {
      const m = Buffer.from(base);
      for (let k = 0; k < 1 + rnd(8); k++) m[16 + rnd(m.length - 16)] = rnd(256);
      await writeFile(path.join(dir, `m${i}`), m.subarray(0, 52 + rnd(m.length - 51)));
    }
    const r = await findCoredumps({ dirs: [dir], signal, limit: 1000 });
    expect(r.candidates.length).toBeGreaterThan(0);
    for (const c of r.candidates) expect(c.bytes).toBeGreaterThanOrEqual(52);
  });

  it('honours the abort signal', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(findCoredumps({ dirs: [await folder('abort')], logText: 'coredump: Writing ELF file to /nonexistent\n', signal: ac.signal })).rejects.toMatchObject({ code: 'E_ABORTED' });
  });
});
