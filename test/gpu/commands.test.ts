import { describe, expect, it } from 'vitest';
import type { RouteContext } from '../../src/triage/rule.js';
import { route } from '../../src/triage/route.js';
import { RULES } from '../../src/triage/rules/index.js';
import { makeIncident, prng, scan, type Source } from './helpers.js';

const LAUNCH = 'python -m sglang.launch_server --model-path /models/moe --tp-size 2 --port 31000';

function ctxFor(dir: string): RouteContext {
  return { root: dir, incidentDir: dir, server: { name: 'prod-a', url: 'http://10.0.0.5:30000', tokenEnv: 'PROD_A_TOKEN', replayLaunch: LAUNCH, replayTargetUrl: 'http://127.0.0.1:31000' } };
}

async function routeWith(sources: Source[], seed: number) {
  const inc = await makeIncident(sources, prng(seed));
  try {
    return { report: route(await scan(inc.dir), ctxFor(inc.dir), RULES), dir: inc.dir };
  } finally {
    await inc.cleanup();
  }
}

const REPLAY: Source = {
  name: 'replay.json',
  text: JSON.stringify({
    artifact_type: 'replay',
    target: 'http://127.0.0.1:31000',
    reproduced: true,
    reproducedWhy: 'server died during request 1',
    trigger: { idx: 1, rid: 'r-1', promptTokens: 769, textPreview: 'hello hello', unfinishedInDump: true, outcome: 'server-died', why: 'connection reset' },
    totals: { planned: 2, sent: 2 },
  }),
};

describe('next-step commands with a registered clean target', () => {
  it('crash, no replay yet: save, start the target with kernel API logging + coredumps, replay, cuda-gdb, memcheck', async () => {
    const { report, dir } = await routeWith([{ real: 'crash.cuda-gdb.txt' }], 1);
    const cmds = report.nextStep.commands;
    const start = cmds.find((c) => c.startsWith('SGLANG_') && c.includes(LAUNCH));
    // %i: kernel_api_logging.py puts the pid there, so each rank process writes its own file.
    expect(start).toBe(`SGLANG_KERNEL_API_LOGLEVEL=10 SGLANG_KERNEL_API_LOGDEST=${dir}/logs/kernel_api.%i.log SGLANG_KERNEL_API_DUMP_DIR=${dir}/dumps/kernel_api.%i SGLANG_CUDA_COREDUMP=1 SGLANG_CUDA_COREDUMP_DIR=${dir}/coredumps ${LAUNCH}  # on the GPU host`);
    expect(cmds.indexOf(start!)).toBeGreaterThan(cmds.findIndex((c) => c.includes('crash_dump_*.pkl')));
    expect(cmds.some((c) => c.startsWith(`compute-sanitizer --tool memcheck --target-processes all --log-file ${dir}/logs/memcheck.%p.txt ${LAUNCH}`))).toBe(true);
    expect(cmds.filter((c) => c.startsWith('triage route'))).toHaveLength(1);
    expect(cmds.join('\n')).not.toContain('<same model');
  });

  it('crash with a replay already in the folder: no new save, the replay is re-run on the instrumented target', async () => {
    const { report } = await routeWith([{ real: 'crash.cuda-gdb.txt' }, REPLAY], 2);
    expect(report.problemClass).toBe('crash');
    expect(report.facts.reproduced).toBe(true);
    expect(report.facts.triggerRequest).toMatchObject({ promptTokens: 769 });
    const cmds = report.nextStep.commands.join('\n');
    expect(cmds).not.toContain('crash_dump_*.pkl');
    expect(cmds).toContain('SGLANG_KERNEL_API_LOGLEVEL=10');
  });

  it('hang: the clean target starts with NCCL COLL logs and the coredump pipe; the replay has a deadline', async () => {
    const { report, dir } = await routeWith([{ real: 'hang.stdout.txt' }], 3);
    const cmds = report.nextStep.commands;
    const start = cmds.find((c) => c.startsWith('NCCL_') && c.includes(LAUNCH))!;
    expect(start).toContain('NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=COLL');
    expect(start).toContain(`CUDA_COREDUMP_PIPE=${dir}/coredumps/corepipe.cuda.%h.%p`);
    expect(start).toContain('CUDA_ENABLE_USER_TRIGGERED_COREDUMP=1');
    expect(cmds.some((c) => c.startsWith('triage replay') && c.includes('--timeout 120'))).toBe(true);
    expect(cmds[0]).toContain('-H "Authorization: Bearer $PROD_A_TOKEN"'); // request dumps on the live server, token by reference
    expect(cmds[0]).toMatch(/# production$/);
  });
});
