/**
 * Incident folders that `triage run crash|hang` wrote on a real H200, routed again unchanged
 * (test/fixtures/gpu-h200-closed-loop/README.md says how they were recorded).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMPTY_REGISTRY } from '../../src/config/servers.js';
import { routeStep } from '../../src/pipelines/route-step.js';
import { REPO_ROOT } from '../helpers/tmp.js';

const DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'gpu-h200-closed-loop');
const routeOf = async (name: string) => (await routeStep(path.join(DIR, name), { registry: EMPTY_REGISTRY, signal: new AbortController().signal, write: false })).report;

describe('closed-loop incidents recorded on H200', () => {
  it('crash: the replay crashed the target it started; cuda-gdb on its coredump names the kernel', async () => {
    const r = await routeOf('crash');
    expect(r.problemClass).toBe('crash');
    expect(r.nextStep.skill).toBe('debug-cuda-crash');
    expect(r.facts.faultingKernel).toBe('route_tokens_kernel');
    expect(r.facts.cudaException).toMatch(/Warp Illegal Address/);
    expect(r.facts.reproduced).toBe('crash');
    expect(r.nextStep.commands.join('\n')).not.toMatch(/triage replay/);
  });

  it('hang: a single-GPU kernel that never finishes, the host in a device synchronize → hang with the stuck kernel', async () => {
    const r = await routeOf('hang');
    expect(r.problemClass).toBe('hang');
    expect(r.facts.reproduced).toBe('hang');
    expect(r.facts.stuckKernel).toBe('spin_until_ready_kernel');
  });
});
