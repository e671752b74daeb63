import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isTriageError } from '../../src/errors.js';
import { readTrace } from '../../src/evidence/profile/index.js';
import { REPO_ROOT, withTempDir } from '../helpers/tmp.js';
import { writeSyntheticTrace } from './synthetic-trace.js';

const run = promisify(execFile);
const signal = new AbortController().signal;
const MiB = 1024 * 1024;
const CHILD = path.join(REPO_ROOT, 'test', 'profile', 'read-trace-child.ts');
/** A V8 old space this small cannot hold a 32 MB trace as a string, let alone as parsed objects. */
const HEAP_LIMIT_MIB = 24;

async function childRead(file: string, extra: string[] = []) {
  return run(process.execPath, [`--max-old-space-size=${HEAP_LIMIT_MIB}`, ...extra, '--import', 'tsx', CHILD, file], { cwd: REPO_ROOT, timeout: 120_000 });
}

describe('large traces: streaming with bounded memory', () => {
  it('a 32 MB trace: exact totals per kernel, device and range', async () => {
    await withTempDir(async (dir) => {
      const file = path.join(dir, 'big.trace.json');
      const exp = await writeSyntheticTrace(file, { targetBytes: 32 * MiB });
      const t = await readTrace(file, { signal });
      expect(t.complete).toBe(true);
      expect(t.kernelCount).toBe(exp.kernelCount);
      for (const k of t.topKernels) expect(k.totalUs).toBeCloseTo(exp.kernelUs.get(k.name)!, 3);
      expect(t.topKernels.map((k) => k.name).sort()).toEqual([...exp.kernelUs.keys()].sort());
      expect(t.dominantKernel?.name).toBe('BatchPrefillWithPagedKVCacheKernel');
      expect(t.devices.map((d) => d.device)).toEqual([0, 1]);
      for (const d of t.devices) expect(d.busyUs).toBeCloseTo(exp.busyUs.get(d.device)!, 3);
      expect(t.ranges.find((r) => r.name === 'forward')?.count).toBe(exp.rangeCount.get('forward'));
      expect(t.ranges.find((r) => r.name === 'decode')?.count).toBe(exp.rangeCount.get('decode'));
      expect(t.rank).toBe(1);
      expect(t.worldSize).toBe(2);
      // A cancel in the middle of the read ends it with E_ABORTED.
      const ctrl = new AbortController();
      const pending = readTrace(file, { signal: ctrl.signal }).catch((e: unknown) => e);
      setTimeout(() => ctrl.abort(new Error('job cancelled')), 30);
      expect(isTriageError(await pending, 'E_ABORTED')).toBe(true);
    });
  }, 120_000);

  it(`reads a 32 MB trace (plain and gzip) inside a ${HEAP_LIMIT_MIB} MiB heap that JSON.parse cannot live in`, async () => {
    await withTempDir(async (dir) => {
      const plain = path.join(dir, 'big.trace.json');
      const gz = path.join(dir, 'big.trace.json.gz');
      const exp = await writeSyntheticTrace(plain, { targetBytes: 32 * MiB });
      await writeSyntheticTrace(gz, { targetBytes: 32 * MiB, gzip: true });
      for (const file of [plain, gz]) {
        const { stdout } = await childRead(file);
        const got = JSON.parse(stdout) as { kernelCount: number; complete: boolean; peakHeapMiB: number };
        expect(got.kernelCount).toBe(exp.kernelCount);
        expect(got.complete).toBe(true);
        expect(got.peakHeapMiB).toBeLessThan(HEAP_LIMIT_MIB + 8);
      }
      // The control: the same heap cannot hold the whole document parsed at once.
      const naive = await run(process.execPath, [`--max-old-space-size=${HEAP_LIMIT_MIB}`, '-e', `JSON.parse(require('fs').readFileSync(${JSON.stringify(plain)}, 'utf8'))`], { timeout: 120_000 }).then(
        () => 'ok',
        () => 'failed',
      );
      expect(naive).toBe('failed');
    });
  }, 180_000);
});
