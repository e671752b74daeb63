/** What the routed commands say: skills, the watchdog kill, where each command runs, how triage is started. */
import { describe, expect, it } from 'vitest';
import { route } from '../../src/triage/route.js';
import type { RouteContext } from '../../src/triage/rule.js';
import { RULES } from '../../src/triage/rules/index.js';
import { WHERE_TAGS } from '../../src/triage/shell.js';
import { makeIncident, prng, scan, type Source } from '../gpu/helpers.js';

const hm = (...names: string[]): Source[] => names.map((handmade) => ({ handmade }));

async function routeWith(sources: Source[], ctxOf: (dir: string) => RouteContext, seed = 7) {
  const inc = await makeIncident(sources, prng(seed));
  try {
    return route(await scan(inc.dir), ctxOf(inc.dir), RULES);
  } finally {
    await inc.cleanup();
  }
}

const registered = (dir: string): RouteContext => ({
  root: dir,
  incidentDir: dir,
  invocation: { triage: ['npx', '--no', 'triage'], serversFile: '/etc/triage/servers.yaml' },
  server: { name: 'prod-a', url: 'http://10.0.0.5:30000', adminTokenEnv: 'PROD_ADMIN', crashDumpDir: '/data/crash', logFile: '/var/log/sglang.log', replayTargetUrl: 'http://127.0.0.1:31000', replayLaunch: 'python -m sglang.launch_server --model-path /m --port 31000' },
});

describe('skills', () => {
  it('a host-side exception whose traceback names the code → fix-at-traceback, why names the frame', async () => {
    const report = await routeWith(hm('cpu-exception-single-rank.log'), registered);
    expect(report.nextStep.skill).toBe('fix-at-traceback');
    expect(report.nextStep.why).toMatch(/process_batch_result_decode \(.*:\d+\)/);
  });

  it('an exception header with no frame in the evidence → collect-more, with the log copy', async () => {
    const text = '[2026-10-02 09:20:13 TP0] Scheduler hit an exception: Traceback (most recent call last):\nValueError: bad batch\n\n[2026-10-02 09:20:13] Received sigquit from a child process.\n';
    const report = await routeWith([{ name: 'server.log', text }], registered);
    expect(report.facts.rule).toBe('scheduler-cpu-exception');
    expect(report.nextStep.skill).toBe('collect-more');
    expect(report.nextStep.commands.some((c) => c.includes('tail -n 300 /var/log/sglang.log'))).toBe(true);
  });
});

describe('a non-soft watchdog kill', () => {
  it('prints no attach to the dead schedulers: copy the crash dump the log names, replay the unfinished trigger, collect on the clean target', async () => {
    const report = await routeWith(hm('watchdog-single-rank.log'), registered);
    expect(report.facts.rule).toBe('scheduler-stall');
    expect(report.nextStep.why).toMatch(/killed/);
    const cmds = report.nextStep.commands;
    const copy = cmds.findIndex((c) => c.includes('cp /data/crash/node-a/crash_dump_2026-10-02_09-20-18.pkl'));
    const replay = cmds.findIndex((c) => c.includes(' replay ') && c.includes('--timeout 120'));
    const attach = cmds.findIndex((c) => c.includes('cuda-gdb -p'));
    expect(copy).toBeGreaterThanOrEqual(0);
    expect(replay).toBeGreaterThan(copy);
    // Every attach comes after the replay (it is on the clean target), and none is tagged as production.
    expect(attach).toBeGreaterThan(replay);
    expect(cmds.filter((c) => c.includes('cuda-gdb -p') || c.includes('py-spy dump')).every((c) => !c.includes(WHERE_TAGS.production) && !c.includes(WHERE_TAGS['production-gpu-host']))).toBe(true);
  });

  it('a soft watchdog (it only logs) keeps the live-process collection', async () => {
    const text = '[2026-10-02 09:20:13 TP0] Scheduler watchdog timeout (self.watchdog_timeout=300, self.soft=True)\n';
    const report = await routeWith([{ name: 'server.log', text }], registered);
    expect(report.facts.rule).toBe('scheduler-stall');
    expect(report.nextStep.commands.some((c) => c.includes('cuda-gdb -p') && c.endsWith(WHERE_TAGS['production-gpu-host']))).toBe(true);
  });
});

describe('printed commands run where they are printed', () => {
  it('triage through the invocation the entry detected, with --servers FILE; production and GPU-host lines tagged', async () => {
    const report = await routeWith(hm('watchdog-single-rank.log'), registered);
    const cmds = report.nextStep.commands;
    const route = cmds.find((c) => c.includes(' route '))!;
    expect(route).toMatch(/^npx --no triage route \S+ --servers \/etc\/triage\/servers\.yaml$/);
    expect(cmds.some((c) => c.startsWith('triage '))).toBe(false);
    expect(cmds.find((c) => c.includes('cp '))).toMatch(/# on the GPU host$/);
    // Replays go to the clean target by name when the registry file travels with the command.
    expect(cmds.find((c) => c.includes(' replay '))).toMatch(/--target prod-a .*--servers \/etc\/triage\/servers\.yaml$/);
  });

  it('the request-dump switch on production carries the admin key by reference and a threshold that does not overwrite', async () => {
    const report = await routeWith([{ real: 'hang.stdout.txt' }], registered);
    const on = report.nextStep.commands.find((c) => c.includes('/configure_logging') && c.includes('dump_requests_threshold'))!;
    expect(on).toContain('-H "Authorization: Bearer $PROD_ADMIN"');
    expect(on).toMatch(/"dump_requests_threshold":100/);
    expect(on).toMatch(/# production$/);
    expect(report.nextStep.commands.some((c) => c.includes('"dump_requests_folder":""'))).toBe(true);
  });
});
