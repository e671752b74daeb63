/**
 * Inputs of a few KB that would exhaust memory or time (issue 12.4) and the smaller losses (12.9):
 * each ends in a coded E_LIMIT that names what was too big, or in a bounded result. Every input is
 * written by CPython in set-up (test/pickle/hostile_pickles.py).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTriageError, type TriageError } from '../../src/errors.js';
import { writeSummaryJson } from '../../src/evidence/dump/json-out.js';
import { loadReplayRequests, summarizeInput } from '../../src/evidence/dump/index.js';
import { MAX_SUMMARY_ROWS } from '../../src/evidence/dump/summary.js';
import { readPickleFile, PyObject } from '../../src/evidence/pickle/index.js';
import { bodyOf } from '../../src/replay/engine.js';
import { REPO_ROOT } from '../helpers/tmp.js';
import { writeHostile, type Hostile } from '../pickle/hostile.js';

const run = promisify(execFile);
const BIN = path.join(REPO_ROOT, 'bin', 'triage.js');
const signal = () => new AbortController().signal;

let h: Hostile;
beforeAll(() => {
  h = writeHostile();
}, 120_000);
afterAll(() => h.cleanup());

async function failure(p: Promise<unknown>): Promise<TriageError> {
  try {
    await p;
  } catch (err) {
    if (isTriageError(err)) return err;
    throw err;
  }
  throw new Error('expected a TriageError');
}

async function triage(args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('memo amplification: one budget per load, shared by every decode', () => {
  it('a 64 KiB prompt memo’d into 100 000 records: the summary is bounded, the replay load is E_LIMIT naming the body', async () => {
    const summary = await summarizeInput(h.file('memo_prompt_100k.pkl'), { signal: signal() });
    expect(summary.counts.requests).toBe(100_000);
    expect(summary.requests[0]!.preview.length).toBeLessThanOrEqual(160);
    const err = await failure(loadReplayRequests(h.file('memo_prompt_100k.pkl'), { signal: signal() }));
    expect(err.code).toBe('E_LIMIT');
    expect(err.message).toMatch(/the body of record \d+ of memo_prompt_100k\.pkl would need more than the \d+ MiB allocation budget/);
  }, 60_000);

  it('builtins.list of a memo’d 1M-item list, 10 000 times: E_LIMIT naming the copy', async () => {
    const err = await failure(readPickleFile(h.file('list_copy_bomb.pkl')));
    expect(err.code).toBe('E_LIMIT');
    expect(err.message).toMatch(/a 1000000-item copy \(builtins\.list\) would exceed the allocation budget/);
    expect(err.details.opcodeName).toBe('REDUCE');
  }, 30_000);

  it('a 64 KiB text used as a dict key 20 000 times is decoded once: a bounded result', async () => {
    const { value, budget } = await readPickleFile(h.file('text_key_20k.pkl'));
    expect(value).toBeInstanceOf(Map);
    expect([...(value as Map<string, unknown>).keys()].map((k) => k.length)).toEqual([65536]);
    expect(budget.usedBytes).toBeLessThan(4 * 1024 * 1024);
  });

  it('billion-laughs sampling_params: `dump` summarises it, the replay load ends in E_LIMIT naming the record', async () => {
    const summary = await summarizeInput(h.file('laughs_sampling_params.pkl'), { signal: signal() });
    expect(summary.counts.requests).toBe(1);
    const err = await failure(loadReplayRequests(h.file('laughs_sampling_params.pkl'), { signal: signal() }));
    expect(err.code).toBe('E_LIMIT');
    expect(err.message).toMatch(/the body of record 0 of laughs_sampling_params\.pkl/);
  }, 30_000);

  it('a 438-byte dump whose server_args would print ~480 MB: `dump --json` stays small and says it cut', async () => {
    const r = await triage(['dump', h.file('laughs_server_args.pkl'), '--json']);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeLessThan(4 * 1024 * 1024);
    const doc = JSON.parse(r.stdout);
    expect(doc.serverArgs.model_path).toBe('m');
    expect(doc.notes.join('\n')).toMatch(/server_args cut at x.*more than 50000 values/);
  }, 60_000);
});

describe('output that cannot be one string', () => {
  it('1M records: counts cover all, requests[] keeps 100 000 and says so, the JSON is streamed and valid', async () => {
    const summary = await summarizeInput(h.file('million_records.pkl'), { signal: signal() });
    expect(summary.counts.requests).toBe(1_000_000);
    expect(summary.requests).toHaveLength(MAX_SUMMARY_ROWS);
    expect(summary.notes.join('\n')).toMatch(/requests lists 100000 of 1000000 records/);
    const chunks: string[] = [];
    let largest = 0;
    await writeSummaryJson(summary, async (c) => {
      chunks.push(c);
      largest = Math.max(largest, c.length);
    });
    expect(largest).toBeLessThan(1024 * 1024); // never one big string
    const doc = JSON.parse(chunks.join(''));
    expect(doc.requests).toHaveLength(MAX_SUMMARY_ROWS);
    expect(doc).toEqual(JSON.parse(JSON.stringify(summary)));
  }, 120_000);

  it('a huge rid is cut to 256 characters and marked with its size', async () => {
    const summary = await summarizeInput(h.file('huge_rid.pkl'), { signal: signal() });
    expect(summary.requests[0]!.rid).toMatch(/^r{256}…\(8388608 bytes\)$/);
    expect(JSON.stringify(summary).length).toBeLessThan(64 * 1024);
  });
});

describe('time is checked by work done', () => {
  it('100 000 BUILD merges into one 100 000-field object: linear, a bounded result', async () => {
    const { value } = await readPickleFile(h.file('build_merge.pkl'));
    expect(value).toBeInstanceOf(PyObject);
    expect((value as PyObject).fields!.size).toBe(100_001);
  }, 30_000);

  it('20 000 objects each copying a memo’d 100 000-field state: E_LIMIT naming the copy', async () => {
    const err = await failure(readPickleFile(h.file('build_copy_bomb.pkl')));
    expect(err.code).toBe('E_LIMIT');
    expect(err.message).toMatch(/a copy of a 100000-field object state would exceed the allocation budget/);
  }, 30_000);

  it('the same file under a huge allocation budget meets the time limit, though it runs few opcodes', async () => {
    const err = await failure(readPickleFile(h.file('build_copy_bomb.pkl'), { limits: { maxAllocBytes: 1e15, maxTimeMs: 300 } }));
    expect(err.code).toBe('E_LIMIT');
    expect(err.message).toMatch(/time limit of 300 ms exceeded/);
  }, 30_000);

  it('big integers: every replay body builds (past 4300 digits as hex, linear), none is decimal-converted', async () => {
    const { requests } = await loadReplayRequests(h.file('bigints.pkl'), { signal: signal() });
    expect(requests).toHaveLength(60);
    for (const r of requests) {
      const seed = (bodyOf(r).sampling_params as { seed: string }).seed;
      expect(seed).toMatch(/^0x8[0-9a-f]{65535}$/);
    }
  }, 60_000);
});

describe('smaller losses', () => {
  it('malformed records are skipped and counted; the good ones replay', async () => {
    const load = await loadReplayRequests(h.file('malformed_records.pkl'), { signal: signal() });
    expect(load.requests.map((r) => r.rid)).toEqual(['g0', 'g1', 'g2']);
    expect(load.skipped).toBe(4);
    expect(load.notes.join('\n')).toMatch(/skipped record 2 of malformed_records\.pkl: dumped request is not a dataclass or dict \(None\)/);
    expect(load.notes.join('\n')).toMatch(/skipped record 5 .*nesting deeper than/);
  });

  it('__proto__ fields stay data, in server_args and in replay bodies', async () => {
    const summary = await summarizeInput(h.file('proto_fields.pkl'), { signal: signal() });
    const args = summary.serverArgs as Record<string, unknown>;
    expect(Object.prototype.hasOwnProperty.call(args, '__proto__')).toBe(true);
    expect((args.__proto__ as Record<string, unknown>).polluted).toBe(true);
    expect(args.tp_size).toBe(2);
    expect(JSON.stringify(summary)).toContain('"__proto__":{"polluted":true}');
    const { requests } = await loadReplayRequests(h.file('proto_fields.pkl'), { signal: signal() });
    expect(JSON.stringify(bodyOf(requests[0]!))).toContain('"__proto__":{"polluted":true}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('server_args 3000 levels deep is cut at a depth and noted; `triage dump` still works', async () => {
    const summary = await summarizeInput(h.file('deep_server_args.pkl'), { signal: signal() });
    expect(summary.topology.tp).toBe(4);
    expect(summary.notes.join('\n')).toMatch(/server_args cut at nested(\[0\])+: nested deeper than 32 levels/);
    const r = await triage(['dump', h.file('deep_server_args.pkl')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/tp=4/);
  }, 60_000);

  it('a secret in an abort message never reaches dump-summary.json, `triage dump` or --json', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'triage-secret-'));
    try {
      const json = await triage(['dump', h.file('secret_abort.pkl'), '--json', '--out', out]);
      const human = await triage(['dump', h.file('secret_abort.pkl')]);
      expect(json.code).toBe(0);
      const file = readFileSync(path.join(out, 'dump-summary.json'), 'utf8');
      for (const text of [json.stdout, json.stderr, human.stdout, human.stderr, file]) expect(text).not.toContain(h.secret);
      expect(JSON.parse(json.stdout).requests[0].finishReason).toMatch(/^abort: upstream said: api_key=<redacted> rejected$/);
      expect(JSON.parse(file)).toEqual(JSON.parse(json.stdout));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});
