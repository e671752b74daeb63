/**
 * Every command any rule can print, for hostile incident folder names and hostile registry values, run
 * with /bin/sh in a sandbox whose PATH holds only recording stubs. No payload may run (the `pwned`
 * stub is never called, no PWNED file appears, no word runs as an unknown command), and every hostile
 * value reaches its tool as one intact argument.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteContext } from '../../src/triage/rule.js';
import { fromBuilders, fromRoutes, type EvidencePaths } from './every-command.js';
import { filesUnder, makeSandbox, type Call, type Sandbox } from './sandbox.js';

/** Each hostile piece sits between zqs…zqe, so a split argument shows as an unmatched marker. */
const PAYLOADS = [
  '$(pwned)`pwned`',
  ';pwned;|pwned&pwned&',
  "it's ' ; pwned ; '",
  'say "hi" "$(pwned)" \\"',
  'line\npwned\n# not a comment',
  '-rf --help',
  '>PWNED <x $HOME * ~root',
  'tab\there\x1b[31mred\x07',
  '$(pwned)\'"`pwned`"\'',
];
const M = (p: string) => `zqs${p}zqe`;

let sb: Sandbox;
beforeAll(async () => {
  sb = await makeSandbox();
});
afterAll(async () => {
  await sb?.cleanup();
});

interface Case {
  ctx: RouteContext;
  ev: EvidencePaths;
  values: string[];
}

async function makeCase(i: number, payload: string, launch: 'simple' | 'complex' | 'none', npx: boolean): Promise<Case> {
  const base = path.join(sb.root, `case${i}`);
  const incidentDir = path.join(base, 'inc', M(payload));
  for (const sub of ['dumps', 'logs', 'stacks', 'gpu', 'coredumps', 'replay/bundle', 'profiles', 'baseline']) await mkdir(path.join(incidentDir, sub), { recursive: true });
  const crashDumpDir = path.join(base, M(`crash ${payload}`));
  const requestDumpDir = path.join(base, M(`req ${payload}`));
  await mkdir(path.join(crashDumpDir, 'h1'), { recursive: true });
  await mkdir(requestDumpDir, { recursive: true });
  await writeFile(path.join(crashDumpDir, 'h1', 'crash_dump_1.pkl'), 'x');
  await writeFile(path.join(requestDumpDir, '2026-01-01_00-00-00.pkl'), 'x');
  const logFile = path.join(base, M(`log ${payload}`));
  const serversFile = path.join(base, M(`servers ${payload}.yaml`));
  const replayLaunch =
    launch === 'simple'
      ? `python -m sglang.launch_server --model-path '/m/${payload.replaceAll("'", '')}' --tp-size 2 --port 31000`
      : launch === 'complex'
        ? ': && python -m sglang.launch_server --port 31000'
        : undefined;
  const ctx: RouteContext = {
    root: incidentDir,
    incidentDir,
    invocation: { triage: npx ? ['npx', '--no', 'triage'] : ['triage'], serversFile },
    server: {
      name: 'prod-a',
      url: `http://10.0.0.5:30000/${M(payload)}`,
      tokenEnv: 'PROD_TOKEN',
      adminTokenEnv: 'ADMIN_KEY',
      logFile,
      crashDumpDir,
      requestDumpDir,
      replayTargetUrl: `http://127.0.0.1:31000/${M(payload)}`,
      replayTokenEnv: 'TARGET_KEY',
      schedulerProcessPattern: `sglang::sch${M(payload)}`,
      ...(replayLaunch ? { replayLaunch } : {}),
    },
  };
  const ev: EvidencePaths = {
    crashDumpPath: path.join(crashDumpDir, 'h1', 'crash_dump_1.pkl'),
    corePath: path.join(incidentDir, 'coredumps', M(`core ${payload}`)),
    targetBase: `http://127.0.0.1:31000/${M(payload)}`,
    ref: M(payload),
  };
  return { ctx, ev, values: [payload, `crash ${payload}`, `req ${payload}`, `log ${payload}`, `servers ${payload}.yaml`, `core ${payload}`, payload.replaceAll("'", '')] };
}

/** Every zqs…zqe span in an argument is exactly one of the hostile values: nothing split, nothing merged. */
function splitPieces(arg: string, values: string[]): string[] {
  const bad: string[] = [];
  const strings = arg.startsWith('{') ? jsonStrings(arg) : [arg];
  for (const s of strings) {
    const opens = s.split('zqs').length - 1;
    const closes = s.split('zqe').length - 1;
    if (opens !== closes) bad.push(s);
    for (const m of s.matchAll(/zqs([\s\S]*?)zqe/g)) if (!values.includes(m[1]!)) bad.push(m[0]);
  }
  return bad;
}

function jsonStrings(text: string): string[] {
  try {
    const out: string[] = [];
    const walk = (v: unknown) => {
      if (typeof v === 'string') out.push(v);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(JSON.parse(text));
    return out;
  } catch {
    return [`unparseable JSON body: ${text}`];
  }
}

const ENV = { ADMIN_KEY: 'admin-sekret', PROD_TOKEN: 'prod-sekret', TARGET_KEY: 'target-sekret' };

async function runAll(c: Case) {
  const generated = [...fromBuilders(c.ctx, c.ev), ...(await fromRoutes(c.ctx))];
  const unique = new Map<string, string>();
  for (const g of generated) for (const cmd of g.commands) if (!unique.has(cmd)) unique.set(cmd, g.from);
  const results: Array<{ cmd: string; from: string; calls: Call[]; stderr: string; status: number | null }> = [];
  for (const [cmd, from] of unique) results.push({ cmd, from, ...sb.run(cmd, ENV) });
  return results;
}

const CASES: Array<[string, number, 'simple' | 'complex' | 'none', boolean]> = PAYLOADS.map((p, i) => [p, i, (['simple', 'complex', 'none'] as const)[i % 3]!, i % 2 === 1]);

describe('printed commands under hostile folder names and registry values', () => {
  it.each(CASES)('payload %j: nothing runs, every value arrives whole', async (payload, i, launch, npx) => {
    const c = await makeCase(i, payload, launch, npx);
    const results = await runAll(c);
    expect(results.length).toBeGreaterThan(60);
    for (const r of results) {
      const where = `${r.from}\n${r.cmd}`;
      expect(r.calls.filter((k) => k.tool === 'pwned'), where).toEqual([]);
      expect(r.stderr, where).not.toMatch(/not found|Syntax error|unterminated|unexpected|Bad substitution/i);
      for (const call of r.calls) for (const arg of call.argv) expect(splitPieces(arg, c.values), `${where}\n${call.tool} ${JSON.stringify(call.argv)}`).toEqual([]);
    }
    expect((await filesUnder(sb.root)).filter((f) => path.basename(f).startsWith('PWNED'))).toEqual([]);

    const calls = results.flatMap((r) => r.calls);
    const triage = calls.filter((k) => k.tool === (npx ? 'npx' : 'triage')).map((k) => (npx ? k.argv.slice(2) : k.argv));
    // `triage route DIR --servers FILE`, exactly: the folder and the registry file the user gave, whole.
    expect(triage).toContainEqual(['route', c.ctx.incidentDir, '--servers', c.ctx.invocation!.serversFile!]);
    if (npx) expect(calls.find((k) => k.tool === 'npx')!.argv.slice(0, 2)).toEqual(['--no', 'triage']);
    // cp gets the globbed crash dump (the folder quoted, the glob expanded) and the named one.
    const cps = calls.filter((k) => k.tool === 'cp').map((k) => k.argv);
    expect(cps).toContainEqual([c.ev.crashDumpPath, `${c.ctx.incidentDir}/dumps/`]);
    expect(cps).toContainEqual([path.join(c.ctx.server!.requestDumpDir!, '2026-01-01_00-00-00.pkl'), `${c.ctx.incidentDir}/dumps/`]);
    // /configure_logging: the admin key by reference (expanded by the shell, never written), the folder JSON-escaped then quoted.
    const configure = calls.find((k) => k.tool === 'curl' && k.argv.some((a) => a.endsWith('/configure_logging')) && k.argv.some((a) => a.includes('dump_requests_threshold')))!;
    expect(configure.argv).toContain('Authorization: Bearer admin-sekret');
    const body = JSON.parse(configure.argv[configure.argv.indexOf('-d') + 1]!);
    expect(body).toEqual({ dump_requests_folder: c.ctx.server!.requestDumpDir, dump_requests_threshold: 100 });
    expect(results.map((r) => r.cmd).join('\n')).not.toContain('admin-sekret');
    // The clean target's launch: rebuilt word by word when simple, run untouched under sh -c otherwise.
    if (launch === 'simple') expect(calls.find((k) => k.tool === 'python')!.argv).toContain(`/m/${payload.replaceAll("'", '')}`);
    if (launch === 'complex') expect(calls.find((k) => k.tool === 'sh')!.argv[1]).toBe(': && python -m sglang.launch_server --port 31000 "$@"');
    // Loops reach their tools with the pid the (stub) pgrep printed.
    expect(calls.some((k) => k.tool === 'py-spy' && k.argv.join(' ') === 'dump --native --pid 4242')).toBe(true);
    expect(calls.some((k) => k.tool === 'pgrep' && k.argv[1] === c.ctx.server!.schedulerProcessPattern)).toBe(true);
  }, 120_000);
});
