/**
 * Every `--flag` that reaches `python -m sglang.launch_server` and every SGLANG_/NCCL_/CUDA_ variable a
 * printed command sets must be in src/sglang/launch-surface.ts (read from SGLang's source at the commit
 * it names). Flags are taken from the argv the sandbox's stub python records, env from the stubs'
 * exported environment and from the command text (for `export` lines and comments).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV_VARS, LAUNCH_FLAGS, REJECTED_FLAGS, SGLANG_SOURCE } from '../../src/sglang/launch-surface.js';
import type { RouteContext } from '../../src/triage/rule.js';
import { REPO_ROOT } from '../helpers/tmp.js';
import { fromBuilders, fromRoutes } from './every-command.js';
import { makeSandbox, type Sandbox } from './sandbox.js';

const LAUNCH = 'python -m sglang.launch_server --model-path /models/qwen --tp-size 2 --port 31000';
/** compute-sanitizer's own options, named in one comment of ours. */
const SANITIZER_FLAGS = new Set(['--tool', '--target-processes', '--log-file']);
const ENV_PREFIX = /^(SGLANG_|NCCL_|CUDA_)/;

let sb: Sandbox;
beforeAll(async () => {
  sb = await makeSandbox();
});
afterAll(async () => {
  await sb?.cleanup();
});

function ctxFor(dir: string, launch: string | undefined): RouteContext {
  return {
    root: dir,
    incidentDir: dir,
    server: {
      name: 'prod-a',
      url: 'http://10.0.0.5:30000',
      adminTokenEnv: 'ADMIN_KEY',
      logFile: '/var/log/sglang.log',
      crashDumpDir: '/data/crash',
      requestDumpDir: '/data/requests',
      replayTargetUrl: 'http://127.0.0.1:31000',
      ...(launch ? { replayLaunch: launch } : {}),
    },
  };
}

async function everything(launch: string | undefined): Promise<string[]> {
  const ctx = ctxFor(path.join(sb.root, 'inc'), launch);
  const ev = { crashDumpPath: '/data/crash/h/crash_dump_1.pkl', corePath: `${ctx.incidentDir}/coredumps/cuda_coredump_h.1.2`, targetBase: 'http://127.0.0.1:31000', ref: 'v0.5.1' };
  return [...new Set([...fromBuilders(ctx, ev), ...(await fromRoutes(ctx))].flatMap((g) => g.commands))];
}

function commentsOf(cmd: string): string {
  if (cmd.startsWith('#')) return cmd;
  const i = cmd.indexOf('  # ');
  return i >= 0 ? cmd.slice(i) : '';
}

describe('flags and env vars that exist in SGLang', () => {
  it('names the SGLang commit it was read from', () => {
    expect(SGLANG_SOURCE.commit).toMatch(/^[0-9a-f]{40}$/);
  });

  it.each([['registered launch', LAUNCH], ['no launch registered', undefined]])('%s: every launch flag and env var of every command is in the launch surface', async (_label, launch) => {
    const cmds = await everything(launch);
    expect(cmds.length).toBeGreaterThan(60);
    const flags = new Set<string>();
    const envs = new Set<string>();
    for (const cmd of cmds) {
      for (const call of sb.run(cmd).calls) {
        const at = call.argv.indexOf('sglang.launch_server');
        if (at >= 0) for (const a of call.argv.slice(at + 1)) if (a.startsWith('--')) flags.add(a.split('=')[0]!);
        for (const name of Object.keys(call.env)) if (ENV_PREFIX.test(name)) envs.add(name);
      }
      for (const m of cmd.matchAll(/(?:^|[\s;&|(])([A-Z][A-Z0-9_]*)=/g)) if (ENV_PREFIX.test(m[1]!)) envs.add(m[1]!);
      for (const m of commentsOf(cmd).matchAll(/--[a-z][a-z0-9-]*/g)) if (!SANITIZER_FLAGS.has(m[0])) flags.add(m[0]);
      for (const rejected of Object.keys(REJECTED_FLAGS)) expect(cmd, cmd).not.toMatch(new RegExp(`${rejected}(?![a-z0-9-])`));
    }
    if (launch) expect([...flags]).toEqual(expect.arrayContaining(['--model-path', '--tp-size', '--port', '--crash-dump-folder']));
    expect([...flags].filter((f) => !(f in LAUNCH_FLAGS))).toEqual([]);
    expect(envs.size).toBeGreaterThan(8);
    expect([...envs].filter((e) => !(e in ENV_VARS))).toEqual([]);
  }, 120_000);

  it('per-rank kernel API logs: SGLANG_KERNEL_API_LOGDEST and _DUMP_DIR carry %i (kernel_api_logging.py _str_with_pid)', async () => {
    const cmds = await everything(LAUNCH);
    const start = cmds.find((c) => c.startsWith('SGLANG_KERNEL_API_LOGLEVEL='))!;
    expect(start).toMatch(/SGLANG_KERNEL_API_LOGDEST=\S*%i/);
    expect(start).toMatch(/SGLANG_KERNEL_API_DUMP_DIR=\S*%i/);
  });

  it('nothing printed signals a process: SGLang registers no SIGUSR1 handler, so kill -USR1 would end the scheduler', async () => {
    for (const cmd of await everything(LAUNCH)) expect(cmd).not.toMatch(/(^|[;&|]\s*|do )kill\b/);
  });
});

describe('skills', () => {
  const TEXT = /\.(ts|md|json|ya?ml)$/;
  function* files(dir: string): Generator<string> {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) yield* files(p);
      else if (TEXT.test(name)) yield p;
    }
  }
  it('no source, template, Slack text or fixture names the retired debug-serving-fault skill', () => {
    const hits: string[] = [];
    for (const dir of ['src', 'templates', 'commands', 'slack', 'docs', 'examples']) {
      const root = path.join(REPO_ROOT, dir);
      try {
        statSync(root);
      } catch {
        continue;
      }
      for (const f of files(root)) if (readFileSync(f, 'utf8').includes('debug-serving-fault')) hits.push(path.relative(REPO_ROOT, f));
    }
    expect(hits).toEqual([]);
  });
});
