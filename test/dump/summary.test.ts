import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDump, dumpRecognizer, looksLikeDump, renderDumpSummary, summarizeInput } from '../../src/evidence/dump/index.js';
import { scanFolder } from '../../src/evidence/scan.js';
import { writeFixtures, type Fixtures } from '../pickle/fixtures.js';

let fx: Fixtures;
beforeAll(() => {
  fx = writeFixtures();
});
afterAll(() => fx.cleanup());

const signal = () => new AbortController().signal;

describe('dump summary', () => {
  it('gives model, topology, endpoint, span and per-request facts of a crash dump', async () => {
    const s = await summarizeInput(fx.file('crash_dump_p4.pkl'), { signal: signal() });
    expect(s.kind).toBe('crash');
    expect(s.model).toBe('qwen-7b');
    expect(s.modelPath).toBe('Qwen/Qwen2.5-7B-Instruct');
    expect(s.topology).toEqual({ tp: 2, dp: 1, pp: 1, ep: 1 });
    expect(s.endpoint).toBe('0.0.0.0:30001');
    expect(s.timeSpan).toEqual({ start: new Date(1_760_000_000_500).toISOString(), end: new Date(1_760_000_009_000).toISOString(), seconds: 8.5 });
    expect(s.counts).toEqual({ requests: 7, finished: 5, unfinished: 2, streaming: 2, batch: 1, skipped: 0 });
    expect(s.triggerCandidates).toEqual(['req-unfinished-6', 'req-unfinished-7']);
    const mm = s.requests.find((r) => r.rid === 'req-mm-5')!;
    expect(mm).toMatchObject({ promptTokens: 900, completionTokens: 8, finishReason: 'stop', elapsedSeconds: 1, unfinished: false, input: 'text' });
    const long = s.requests.find((r) => r.rid === 'req-unfinished-6')!;
    expect(long.preview.length).toBe(160);
    expect(long).toMatchObject({ unfinished: true, finishReason: null, stream: true, elapsedSeconds: 2 });
    expect(s.requests.find((r) => r.input === 'batch')!.rid).toBe('req-batch-3a,req-batch-3b');
    expect(s.serverArgs).toMatchObject({ $class: 'sglang.srt.server_args.ServerArgs', tp_size: 2, speculative_algorithm: 1, disabled_kernels: ['fa3'] });
  });

  it('redacts every secret from server_args and the launch command', async () => {
    const s = await summarizeInput(fx.file('crash_dump_p2.pkl'), { signal: signal() });
    const text = JSON.stringify(s) + renderDumpSummary(s);
    expect(text).not.toMatch(/SECRET/);
    expect(s.serverArgs).toMatchObject({ api_key: '<redacted>', admin_api_key: '<redacted>', ssl_keyfile_password: null });
    expect(s.launchCommand).toContain('--api-key <redacted>');
    expect(s.launchCommand).toContain('--admin-api-key=<redacted>');
    expect(s.launchCommand).toContain('--tp 2');
  });

  it('server_args = None: the requests still summarise, and the gap is said', async () => {
    const s = await summarizeInput(fx.file('request_dump_none.pkl'), { signal: signal() });
    expect(s.kind).toBe('request');
    expect([s.model, s.endpoint, s.serverArgs, s.launchCommand]).toEqual([null, null, null, null]);
    expect(s.counts.requests).toBe(7);
    expect(s.notes.join('\n')).toMatch(/server_args is None/);
  });

  it('renders unfinished requests first, as the strongest trigger candidates', async () => {
    const s = await summarizeInput(fx.file('crash_dump_p5.pkl'), { signal: signal() });
    const text = renderDumpSummary(s);
    expect(text).toMatch(/Unfinished requests: the strongest trigger candidates/);
    const unfinishedAt = text.indexOf('req-unfinished-6');
    expect(unfinishedAt).toBeGreaterThan(0);
    expect(unfinishedAt).toBeLessThan(text.indexOf('Finished requests'));
    expect(text).toContain('tp=2 dp=1 pp=1 ep=1');
    expect(text).toContain('qwen-7b (Qwen/Qwen2.5-7B-Instruct)');
  });

  it('a folder with one unreadable dump summarises the rest and names the bad file', async () => {
    const dir = path.join(fx.dir, 'mixed');
    mkdirSync(dir);
    copyFileSync(fx.file('crash_dump_p4.pkl'), path.join(dir, 'a.pkl'));
    copyFileSync(fx.file('truncated_p4_2164.pkl'), path.join(dir, 'b.pkl'));
    copyFileSync(fx.file('request_dump_none.pkl'), path.join(dir, 'c.pkl'));
    const s = await summarizeInput(dir, { signal: signal() });
    expect(s.kind).toBe('mixed');
    expect(s.counts.requests).toBe(14);
    expect(s.files.map((f) => [path.basename(f.file), f.error === undefined])).toEqual([
      ['a.pkl', true],
      ['b.pkl', false],
      ['c.pkl', true],
    ]);
    expect(s.files[1]!.error).toMatch(/truncated/);
  });
});

describe('dump recognizer (triage route)', () => {
  it('sniffs dumps by content, at every protocol, and not other pickles or text', () => {
    const head = (name: string) => readFileSync(fx.file(name)).subarray(0, 65536).toString('latin1');
    for (const name of ['crash_dump_p0.pkl', 'crash_dump_p2.pkl', 'crash_dump_p4.pkl', 'crash_dump_p5.pkl', 'request_dump_none.pkl', 'bare_list.pkl']) {
      expect(looksLikeDump(head(name)), name).toBe(true);
    }
    for (const name of ['values_p4.pkl', 'not_a_pickle.json', 'not_a_pickle.txt', 'hostile_p4.pkl']) expect(looksLikeDump(head(name)), name).toBe(false);
  });

  it('turns dumps in an incident folder into evidence, whatever they are called', async () => {
    const dir = path.join(fx.dir, 'incident');
    mkdirSync(path.join(dir, 'dumps'), { recursive: true });
    copyFileSync(fx.file('crash_dump_p4.pkl'), path.join(dir, 'dumps', 'whatever.bin'));
    copyFileSync(fx.file('truncated_p4_2164.pkl'), path.join(dir, 'dumps', 'cut.pkl'));
    copyFileSync(fx.file('values_p4.pkl'), path.join(dir, 'other.pkl'));
    const evidence = await scanFolder(dir, { recognizers: [dumpRecognizer], folderRecognizers: [], signal: signal() });
    const dumps = evidence.of('dump');
    expect(dumps.map((d) => d.file).sort()).toEqual(['dumps/cut.pkl', 'dumps/whatever.bin']);
    const good = dumps.find((d) => d.file === 'dumps/whatever.bin')!;
    expect(good.data.triggerCandidates).toEqual(['req-unfinished-6', 'req-unfinished-7']);
    expect(evidence.checked.find((line) => line.startsWith('dumps/whatever.bin'))).toMatch(
      /crash dump: 7 requests, 2 unfinished \(strongest trigger candidates: req-unfinished-6, req-unfinished-7\), model qwen-7b, tp=2 dp=1/,
    );
    const cut = dumps.find((d) => d.file === 'dumps/cut.pkl')!;
    expect(describeDump(cut.data)).toMatch(/^SGLang dump, unreadable: pickle: truncated/);
    expect(evidence.unrecognised).toEqual(['other.pkl']);
  });
});
