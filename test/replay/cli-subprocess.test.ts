/**
 * `node bin/triage.js replay <crash dump>` as a subprocess, on a pickle written by python3's own
 * pickle module (dataclass GenerateReqInput in a module named sglang.srt.managers.io_struct).
 * The CLI runs from dist/, which `npm test` builds first.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, withTempDir } from '../helpers/tmp.js';
import { startFakeSglang, type FakeSglang } from './fake-sglang.js';

const run = promisify(execFile);
const BIN = path.join(REPO_ROOT, 'bin', 'triage.js');
const DIST_CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'replay.js');
const DIST_LOADER = path.join(REPO_ROOT, 'dist', 'src', 'evidence', 'dump', 'load.js');

const PICKLE_SCRIPT = String.raw`
import dataclasses, pickle, sys, types
from typing import Any, Optional

for name in ["sglang", "sglang.srt", "sglang.srt.managers", "sglang.srt.managers.io_struct"]:
    sys.modules[name] = types.ModuleType(name)
io = sys.modules["sglang.srt.managers.io_struct"]

@dataclasses.dataclass
class GenerateReqInput:
    text: Optional[Any] = None
    input_ids: Optional[Any] = None
    sampling_params: Optional[dict] = None
    rid: Optional[str] = None
    stream: bool = False
    return_logprob: Optional[bool] = None

GenerateReqInput.__module__ = io.__name__
io.GenerateReqInput = GenerateReqInput

def done(n):
    return {"text": "ok", "output_ids": [1] * n,
            "meta_info": {"prompt_tokens": 3, "completion_tokens": n, "finish_reason": {"type": "length", "length": n}}}

t = 1764292560.0
records = [
    (GenerateReqInput(text="hello world", sampling_params={"max_new_tokens": 4}, rid="a"), done(3), t, t + 0.2),
    (GenerateReqInput(text="hello there", sampling_params={"max_new_tokens": 4}, rid="b", stream=True), done(2), t + 0.05, t + 0.3),
    (GenerateReqInput(text="hello " * 768, sampling_params={"max_new_tokens": 8}, rid="trigger"),
     {"meta_info": {"prompt_tokens": 769, "completion_tokens": 0, "finish_reason": None}}, t + 0.1, t + 9.0),
    (GenerateReqInput(text="after", sampling_params={"max_new_tokens": 2}, rid="c"), done(2), t + 0.15, t + 0.4),
]
with open(sys.argv[1], "wb") as f:
    pickle.dump({"server_args": None, "requests": records, "launch_command": "python -m sglang.launch_server --api-key SECRET"}, f)
`;

async function triage(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let server: FakeSglang;
beforeAll(async () => {
  // `npm test` builds dist/ first (pretest); rebuilding here would race the other CLI tests reading it.
  if (!existsSync(DIST_CLI) || !existsSync(DIST_LOADER)) throw new Error('dist/ is missing: run `npm run build` (npm test does it for you)');
  server = await startFakeSglang({ hangWhen: (_body, promptTokens) => promptTokens === 769 });
});
afterAll(() => server?.close());

describe('triage replay (built, as a subprocess, on a python-written crash dump)', () => {
  it('replays the dump, writes replay.json into the incident around dumps/, finds the hang', async () => {
    expect(existsSync(DIST_CLI)).toBe(true);
    await withTempDir(async (dir) => {
      const dumps = path.join(dir, 'inc', 'dumps');
      await mkdir(dumps, { recursive: true });
      const pkl = path.join(dumps, 'crash_dump_2026-11-28_01-16-00.pkl');
      const py = spawnSync('python3', ['-c', PICKLE_SCRIPT, pkl], { encoding: 'utf8' });
      expect(py.status, py.stderr).toBe(0);

      const r = await triage(['replay', pkl, '--target', server.url, '--timeout', '0.5', '--speed', '2', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout);
      expect(summary.replayJson).toBe(path.join(dir, 'inc', 'replay', 'replay.json'));
      expect(summary.reproduced).toBe('hang');
      expect(summary.trigger).toMatchObject({ rid: 'trigger', promptTokens: 769, textPreview: '"hello " * 768', unfinishedInDump: true });
      expect(r.stderr).toMatch(/replaying 4 request\(s\) from 1 file/);

      const doc = JSON.parse(await readFile(summary.replayJson, 'utf8'));
      expect(doc.requests.map((q: { rid: string; outcome: { kind: string } }) => `${q.rid}:${q.outcome.kind}`)).toEqual(['a:ok', 'b:ok', 'trigger:timeout', 'c:ok']);
      expect(doc.requests.map((q: { plannedStartMs: number }) => q.plannedStartMs)).toEqual([0, 25, 50, 75]);
      expect(JSON.stringify(doc)).not.toContain('SECRET');
      // The recorded stream flag and sampling params were sent as recorded.
      expect(server.received.find((q) => q.body.rid === 'b')?.body).toMatchObject({ stream: true, sampling_params: { max_new_tokens: 4 } });

      // And `triage route` on the incident folder reads it back by content.
      const routed = await triage(['route', path.join(dir, 'inc'), '--json']);
      expect(routed.code, routed.stderr).toBe(0);
      const report = JSON.parse(routed.stdout);
      const rep = report.report ?? report;
      expect(rep.problemClass).toBe('hang');
      expect(rep.facts.reproduced).toBe('hang');
      expect(rep.facts.triggerRequest).toMatchObject({ rid: 'trigger', promptTokens: 769 });
    });
  });

  it('--ignore-eos through the CLI rewrites sampling_params from the recorded completion tokens', async () => {
    await withTempDir(async (dir) => {
      const pkl = path.join(dir, 'd.pkl');
      expect(spawnSync('python3', ['-c', PICKLE_SCRIPT, pkl]).status).toBe(0);
      const before = server.received.length;
      const r = await triage(['replay', pkl, '--target', server.url, '--ignore-eos', '--req-number', '2', '--speed', '10', '--out', path.join(dir, 'out')]);
      expect(r.code, r.stderr).toBe(0);
      const sent = server.received.slice(before).map((q) => q.body.sampling_params);
      // max_new_tokens 4 in the request, 3 and 2 tokens recorded: the recorded lengths win.
      expect(sent).toEqual([
        { max_new_tokens: 3, ignore_eos: true },
        { max_new_tokens: 2, ignore_eos: true },
      ]);
      expect(existsSync(path.join(dir, 'out', 'replay', 'replay.json'))).toBe(true);
    });
  });
});
