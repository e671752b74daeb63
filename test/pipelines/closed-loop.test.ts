/**
 * The closed loop end to end, with real processes: the pipeline starts the clean target from the
 * registry's `replay.launch` (the SGLang emulator, which really crashes, hangs, goes slow and writes
 * profiler traces), replays the saved trigger, collects what the replay shows with the fake GPU tools
 * on PATH, stops the target, and routes. Nothing it started may be left: no process, no listening port.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readIncidentFile } from '../../src/incident/incident-file.js';
import { runPipeline } from '../../src/pipelines/index.js';
import type { StepProgress } from '../../src/pipelines/types.js';
import { processesInGroup } from '../../src/target/process-group.js';
import { eventually } from '../helpers/eventually.js';
import { FAKE_BIN, emulatorLaunch, freePort, pipelineDeps, portAnswers, registryYaml, triggerRequests, writeDump, type DumpRequest } from '../helpers/closed-loop.js';
import { startEmulator, type Emulator } from '../helpers/sglang-emulator.js';
import { REPO_ROOT, withTempDir } from '../helpers/tmp.js';

let servers: Emulator[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function production(scenario: 'healthy' | 'ttft-spike' | 'queue-pressure'): Promise<Emulator> {
  const e = await startEmulator({ scenario });
  servers.push(e);
  return e;
}

/** Nothing of the target is left: its process group is empty and its port refuses connections. */
async function expectTargetGone(incidentDir: string, port: number): Promise<void> {
  const incident = await readIncidentFile(incidentDir);
  expect(incident?.target?.pgid).toBeGreaterThan(0);
  expect(incident?.target?.stoppedAt).toBeTruthy();
  expect(await processesInGroup(incident!.target!.pgid)).toEqual([]);
  expect(await portAnswers(port)).toBe(false);
}

/**
 * One closed-loop scene: production (the emulator in-process), a saved dump, and a registry whose clean
 * target is the emulator started from `replay.launch` with `flags`.
 */
async function scene(dir: string, o: { prod: 'healthy' | 'ttft-spike' | 'queue-pressure'; flags: string; dump: 'trigger' | { requests: DumpRequest[] } }) {
  const prod = await production(o.prod);
  const port = await freePort();
  const trigger = o.dump === 'trigger';
  if (o.dump === 'trigger') writeDump(path.join(dir, 'crash', 'gpu-1', 'crash_dump_2026-11-28_01-00-00.pkl'), 'crash', triggerRequests());
  else writeDump(path.join(dir, 'req', 'req_dump_1.pkl'), 'request', o.dump.requests);
  const yaml = registryYaml({ prodUrl: prod.url, targetPort: port, launch: emulatorLaunch(port, o.flags), ...(trigger ? { crashDumpDir: path.join(dir, 'crash') } : { requestDumpDir: path.join(dir, 'req') }) });
  const deps = pipelineDeps(yaml);
  return { prod, port, yaml, deps, server: { ...deps.registry.servers['prod-a']!, name: 'prod-a' } };
}

const ls = async (dir: string): Promise<string[]> => readdir(dir, { recursive: true }).then((f) => f.map(String)).catch(() => []);

describe('closed loop: the pipeline starts the clean target, replays, collects, stops, routes', () => {
  it('crash: the target dies on the trigger; its log, its crash dump and its CUDA coredump reach the incident; cuda-gdb names the kernel', async () => {
    await withTempDir(async (dir) => {
      const { port, deps, server } = await scene(dir, { prod: 'healthy', flags: '--crash-prompt-tokens 769 --tp 2', dump: 'trigger' });
      const incidentDir = path.join(dir, 'inc-crash');
      const progress: StepProgress[] = [];
      const result = await runPipeline({ pipeline: 'crash', server, incidentDir, timeoutS: 10 }, deps, new AbortController().signal, (p) => progress.push(p));

      expect(result.report?.facts.reproduced).toBe('crash');
      expect(result.report?.problemClass).toBe('crash');
      expect(result.report?.nextStep.skill).toBe('debug-cuda-crash');
      expect(result.report?.facts.faultingKernel).toBe('moe_align_block_size_kernel');
      const files = await ls(incidentDir);
      const targetLog = await readFile(path.join(incidentDir, 'logs', 'target.log'), 'utf8');
      expect(targetLog).toMatch(/Dumped 2 finished and 1 unfinished requests before crash to \S+crash_dump_\S+\.pkl/);
      expect(files.some((f) => /^replay\/crash-dumps\/.+\/crash_dump_.+\.pkl$/.test(f))).toBe(true);
      // The coredump is found by content in the folder SGLANG_CUDA_COREDUMP_DIR pointed at, then read.
      expect(files.some((f) => /^coredumps\/target\/cuda_coredump_/.test(f))).toBe(true);
      expect(files.some((f) => /^coredumps\/.+\.cuda-gdb\.txt$/.test(f))).toBe(true);
      // The report says what was reproduced; it does not ask for another replay.
      expect(result.report?.nextStep.commands.join('\n')).not.toMatch(/triage replay/);
      expect(progress.filter((p) => p.state === 'failed')).toEqual([]);
      await expectTargetGone(incidentDir, port);
    });
  }, 90_000);

  it('hang: the trigger stalls the target; replay-time bundles while it hangs, both ranks\' stacks and attach, the NCCL divergence; the target is stopped', async () => {
    await withTempDir(async (dir) => {
      const { port, deps, server } = await scene(dir, { prod: 'healthy', flags: '--hang-prompt-tokens 769 --ranks 2 --tp 2', dump: 'trigger' });
      const incidentDir = path.join(dir, 'inc-hang');
      const progress: StepProgress[] = [];
      const result = await runPipeline({ pipeline: 'hang', server, incidentDir, timeoutS: 4 }, deps, new AbortController().signal, (p) => progress.push(p));

      expect(result.report?.facts.reproduced).toBe('hang');
      expect(result.report?.problemClass).toBe('hang');
      expect(result.report?.nextStep.skill).toBe('debug-distributed-hang');
      expect(result.report?.facts.collective).toBe('AllGather');
      // Rank 0 skipped the logits all_gather (the recorded bug): it is the rank missing from the collective.
      expect(result.report?.facts.divergentRank).toBe(0);
      expect(result.report?.facts.stuckKernel).toBe('ncclDevKernel_AllGather_RING_LL');
      const files = await ls(incidentDir);
      // At least one bundle taken while the request still hung, and one after.
      const bundles = files.filter((f) => /^replay\/bundle-\d+\/metadata\.json$/.test(f));
      expect(bundles.length).toBeGreaterThanOrEqual(2);
      const firstHealth = JSON.parse(await readFile(path.join(incidentDir, 'replay', 'bundle-1', 'metadata.json'), 'utf8'));
      expect(JSON.stringify(firstHealth)).toMatch(/503|timeout/);
      // Stacks and attach from exactly the target's two ranks.
      const collection = JSON.parse(await readFile(path.join(incidentDir, 'stacks', 'collection.json'), 'utf8'));
      expect(collection.pids).toHaveLength(2);
      expect(files.filter((f) => /^stacks\/cuda-gdb-attach\.\d+\.txt$/.test(f))).toHaveLength(2);
      expect(files.filter((f) => /^logs\/nccl\..+\.log$/.test(f))).toHaveLength(2);
      // Replayed requests are bounded by --timeout: the hung trigger ended at 4 s, not at a fixed 300 s.
      const replay = JSON.parse(await readFile(path.join(incidentDir, 'replay', 'replay.json'), 'utf8'));
      expect(replay.options.timeoutMs).toBe(4000);
      expect(progress.some((p) => p.counters && p.counters.sent !== undefined)).toBe(true);
      await expectTargetGone(incidentDir, port);
    });
  }, 120_000);

  it('slow: compute-side slowness confirmed by a replay at parallel 1 is profiled on the target; the trace lands in profiles/', async () => {
    await withTempDir(async (dir) => {
      const now = Date.now() / 1000;
      const requests = [{ rid: 'slow-1', text: 'summarise '.repeat(400).trim(), output: 'a summary', created: now - 30, finished: now - 27 }];
      const { port, deps, server } = await scene(dir, { prod: 'ttft-spike', flags: '--slow-prompt-tokens 100 --slow-ms 2600', dump: { requests } });
      const incidentDir = path.join(dir, 'inc-slow');
      const result = await runPipeline({ pipeline: 'slow', server, incidentDir, timeoutS: 20 }, deps, new AbortController().signal, () => undefined);

      expect(result.report?.facts.reproduced).toBe('slow');
      expect(result.report?.problemClass).toBe('slow');
      expect(result.report?.nextStep.skill).toBe('llm-torch-profiler-analysis');
      const decision = JSON.parse(await readFile(path.join(incidentDir, 'profiles', 'decision.json'), 'utf8'));
      expect(decision.verdict).toBe('compute');
      expect((await ls(path.join(incidentDir, 'profiles'))).some((f) => /\.trace\.json\.gz$/.test(f))).toBe(true);
      const replay = JSON.parse(await readFile(path.join(incidentDir, 'replay', 'replay.json'), 'utf8'));
      expect(replay.options.parallel).toBe(1);
      // The trace the target wrote is read by content: the dominant kernel, bare, and the trace in the commands.
      expect(result.report?.facts.dominantKernel).toBe('flash_fwd_splitkv_kernel');
      expect(result.report?.nextStep.commands.join('\n')).toMatch(/profiles\/.+\.trace\.json\.gz/);
      await expectTargetGone(incidentDir, port);
    });
  }, 90_000);

  it('queue pressure is slow too and is never profiled', async () => {
    await withTempDir(async (dir) => {
      const now = Date.now() / 1000;
      const { port, deps, server } = await scene(dir, { prod: 'queue-pressure', flags: '', dump: { requests: [{ rid: 'q-1', text: 'hello there', output: 'hi', created: now - 30, finished: now - 25 }] } });
      const incidentDir = path.join(dir, 'inc-queue');
      const result = await runPipeline({ pipeline: 'slow', server, incidentDir, timeoutS: 20 }, deps, new AbortController().signal, () => undefined);

      expect(result.report?.problemClass).toBe('slow');
      expect(result.report?.facts.reproduced).toBe(false);
      const decision = JSON.parse(await readFile(path.join(incidentDir, 'profiles', 'decision.json'), 'utf8'));
      expect(decision.verdict).toBe('queue');
      expect((await ls(path.join(incidentDir, 'profiles'))).filter((f) => /\.trace\.json/.test(f))).toEqual([]);
      await expectTargetGone(incidentDir, port);
    });
  }, 90_000);

  it('a run cancelled mid-replay still stops the target it started', async () => {
    await withTempDir(async (dir) => {
      const { port, deps, server } = await scene(dir, { prod: 'healthy', flags: '--hang-prompt-tokens 769 --ranks 2', dump: 'trigger' });
      const incidentDir = path.join(dir, 'inc-cancel');
      const ac = new AbortController();
      const run = runPipeline({ pipeline: 'hang', server, incidentDir, timeoutS: 60 }, deps, ac.signal, (p) => {
        if (p.step === 'replay on the clean target' && p.counters?.inFlight) ac.abort(new Error('operator pressed Ctrl-C'));
      });
      await expect(run).rejects.toMatchObject({ code: 'E_ABORTED' });
      await expectTargetGone(incidentDir, port);
      expect((await readIncidentFile(incidentDir))?.status).toBe('failed');
    });
  }, 90_000);
});

describe('closed loop: the triage process itself is killed', () => {
  it('SIGKILL of `triage run hang` mid-replay: the reaper stops the target group; no process, no port is left', async () => {
    await withTempDir(async (dir) => {
      const { port, yaml } = await scene(dir, { prod: 'healthy', flags: '--hang-prompt-tokens 769 --ranks 2', dump: 'trigger' });
      const servers = path.join(dir, 'servers.yaml');
      await writeFile(servers, yaml);
      const incidentDir = path.join(dir, 'inc-killed');
      const cli = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'triage.js'), 'run', 'hang', 'prod-a', '--servers', servers, '--out', incidentDir, '--timeout', '120'], {
        env: { ...process.env, PATH: `${FAKE_BIN}:${process.env.PATH}` },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      cli.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      // Wait until the target is up and the hung trigger is in flight, then kill triage outright.
      await eventually(() => /[1-9]\d* in flight/.test(stderr), 'the hung trigger in flight', 60_000);
      const pgid = (await readIncidentFile(incidentDir))!.target!.pgid;
      expect((await processesInGroup(pgid)).length).toBeGreaterThanOrEqual(3); // launcher, HTTP front end, two ranks
      cli.kill('SIGKILL');
      await eventually(async () => (await processesInGroup(pgid)).length === 0 && !(await portAnswers(port)), 'the reaper to stop the target', 20_000);
    });
  }, 120_000);
});
