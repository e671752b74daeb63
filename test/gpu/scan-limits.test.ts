/**
 * Route at any size, and never leave the folder: limits are reported in `checked`, files are read in
 * priority order past the file limit, a crash line in the middle of a huge log is seen, links are not
 * followed and FIFOs are never opened (a FIFO named health.txt used to block route forever).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FOLDER_RECOGNIZERS, RECOGNIZERS } from '../../src/evidence/registry.js';
import { scanFolder, type ScanLimits } from '../../src/evidence/scan.js';
import { route } from '../../src/triage/route.js';
import { RULES } from '../../src/triage/rules/index.js';
import { real } from './helpers.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'triage-scan-'));
  dirs.push(d);
  return d;
}
async function routeWith(dir: string, limits: Partial<ScanLimits> = {}) {
  const evidence = await scanFolder(dir, { recognizers: RECOGNIZERS, folderRecognizers: FOLDER_RECOGNIZERS, signal: new AbortController().signal, limits });
  return { evidence, report: route(evidence, { root: dir, incidentDir: dir }, RULES) };
}
const BATCH = '[2026-11-28 00:55:50 TP0] Prefill batch. #new-seq: 1, #new-token: 12, #cached-token: 0, token usage: 0.01, #running-req: 0, #queue-req: 0\n';

describe('scan at any size', () => {
  it('over the file limit: GPU tool output is read before log shards, and checked lists what was skipped', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'logs'));
    for (let i = 0; i < 40; i++) await writeFile(path.join(dir, 'logs', `a-shard-${String(i).padStart(3, '0')}.log`), BATCH.repeat(3));
    await mkdir(path.join(dir, 'zz'));
    await writeFile(path.join(dir, 'zz', 'transcript'), await real('crash.cuda-gdb.txt'));
    const { report } = await routeWith(dir, { maxFiles: 10 });
    expect(report.problemClass).toBe('crash');
    expect(report.facts.faultingKernel).toBe('moe_align_block_size_kernel');
    const note = report.checked.find((c) => c.startsWith('scan limit:'));
    expect(note).toMatch(/31 file\(s\) not read \(over 10 files; GPU tool output, dumps and stacks were read first\): logs\/a-shard-/);
  });

  it('under the limits nothing is reported as skipped', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'x.log'), BATCH);
    const { report } = await routeWith(dir);
    expect(report.checked.some((c) => c.startsWith('scan limit'))).toBe(false);
  });

  it('the entry and depth limits say where the walk stopped', async () => {
    const dir = await tempDir();
    let deep = dir;
    for (let i = 0; i < 5; i++) deep = path.join(deep, `d${i}`);
    await mkdir(deep, { recursive: true });
    await writeFile(path.join(deep, 'f.txt'), 'x');
    const r1 = await routeWith(dir, { maxDepth: 2 });
    expect(r1.report.checked).toContain('scan limit: folders deeper than 2 levels not entered: d0/d1/d2');
    const r2 = await routeWith(dir, { maxEntries: 3 });
    expect(r2.report.checked.find((c) => c.includes('stopped listing'))).toMatch(/stopped listing at d0\/d1\/d2 after 3 folder entries/);
  });

  it('a CUDA error in the middle of a log much larger than the whole-read budget is seen, and checked says how', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'server.log');
    const handle = await open(file, 'w');
    const filler = BATCH.repeat(2000);
    for (let i = 0; i < 20; i++) await handle.write(filler);
    await handle.write('[2026-11-28 00:55:53 TP0] RuntimeError: CUDA error: an illegal memory access was encountered\n');
    for (let i = 0; i < 20; i++) await handle.write(filler);
    await handle.close();
    const { report } = await routeWith(dir, { textBytes: 256 * 1024 });
    expect(report.problemClass).toBe('crash');
    expect(report.evidence.some((e) => e.fact.includes('an illegal memory access was encountered'))).toBe(true);
    expect(report.checked.find((c) => c.startsWith('server.log: ') && c.includes('MiB:'))).toMatch(/read the first 0\.1 MiB and the last 0\.2 MiB whole; scanned all [\d.]+ MiB of the middle, keeping \d+ incident line/);
  });

  it('when the middle-scan budget runs out, checked says at which byte the scan stopped', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'server.log'), BATCH.repeat(40_000));
    const { report } = await routeWith(dir, { textBytes: 128 * 1024, middleScanBytes: 1024 * 1024 });
    expect(report.checked.find((c) => c.includes('STOPPED'))).toMatch(/STOPPED at byte \d+ of \d+ \(middle-scan budget of 1048576 bytes\); bytes \d+–\d+ were not read/);
  });
});

describe('scan never leaves the folder and never blocks', () => {
  it('a FIFO named health.txt inside a bundle is never opened; the rest of the bundle is still read', async () => {
    const dir = await tempDir();
    const bundle = path.join(dir, 'baseline');
    await mkdir(bundle);
    execFileSync('mkfifo', [path.join(bundle, 'health.txt')]);
    await writeFile(path.join(bundle, 'health_generate.txt'), 'ok\n');
    await writeFile(path.join(bundle, 'model_info.json'), JSON.stringify({ ok: true, status: 200, path: '/model_info', json: { model_path: 'm' } }));
    await writeFile(path.join(bundle, 'metrics.txt'), '# no metrics\n');
    execFileSync('mkfifo', [path.join(dir, 'stray.fifo')]);
    const { evidence, report } = await routeWith(dir);
    expect(evidence.of('bundle')).toHaveLength(1);
    expect(evidence.of('bundle')[0]!.data.endpoints['health.txt']?.state).toBe('missing');
    expect(report.checked).toContain('baseline/: health.txt not read (not a regular file: never opened or followed)');
    expect(report.checked.find((c) => c.startsWith('not read (symlinks'))).toMatch(/baseline\/health\.txt \(fifo\).*stray\.fifo \(fifo\)/);
  }, 20_000);

  it('symlinks (to a file or a folder outside) are not followed, by the walk or by a bundle reader', async () => {
    const outside = await tempDir();
    await writeFile(path.join(outside, 'secret-transcript'), await real('crash.cuda-gdb.txt'));
    await writeFile(path.join(outside, 'metadata.json'), '{"server": "outside"}');
    const dir = await tempDir();
    await symlink(path.join(outside, 'secret-transcript'), path.join(dir, 'link-to-file'));
    await symlink(outside, path.join(dir, 'link-to-dir'));
    const bundle = path.join(dir, 'b');
    await mkdir(bundle);
    await writeFile(path.join(bundle, 'health.txt'), 'ok\n');
    await writeFile(path.join(bundle, 'health_generate.txt'), 'ok\n');
    await symlink(path.join(outside, 'metadata.json'), path.join(bundle, 'metadata.json'));
    const { evidence, report } = await routeWith(dir);
    expect(evidence.of('cuda-gdb')).toEqual([]);
    expect(report.problemClass).not.toBe('crash');
    expect(JSON.stringify(evidence.of('bundle')[0]?.data ?? {})).not.toContain('outside');
    expect(report.checked.find((c) => c.startsWith('not read (symlinks'))).toMatch(/b\/metadata\.json \(symlink\).*link-to-dir \(symlink\).*link-to-file \(symlink\)/);
  });
});
