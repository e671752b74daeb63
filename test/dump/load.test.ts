import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDumpFile, loadReplayRequests } from '../../src/evidence/dump/index.js';
import { isTriageError } from '../../src/errors.js';
import { bodyOf } from '../../src/replay/engine.js';
import { writeFixtures, type Fixtures } from '../pickle/fixtures.js';

let fx: Fixtures;
beforeAll(() => {
  fx = writeFixtures();
});
afterAll(() => fx.cleanup());

const signal = () => new AbortController().signal;

describe('loadReplayRequests', () => {
  const names = ['crash_dump_p0.pkl', 'crash_dump_p2.pkl', 'crash_dump_p4.pkl', 'crash_dump_p5.pkl', 'request_dump_none.pkl', 'bare_list.pkl'];
  for (const name of names) {
    it(`${name}: /generate bodies and facts match what CPython computes from the same objects`, async () => {
      const expected = fx.manifest.dumps[name]!.requests;
      const { requests, files } = await loadReplayRequests(fx.file(name), { signal: signal() });
      expect(files).toEqual([fx.file(name)]);
      expect(requests.map((r) => r.index)).toEqual(expected.map((_, i) => i));
      for (const [i, want] of expected.entries()) {
        const got = requests[i]!;
        expect(got.createdAt, `${name} #${i}`).toBe(want.createdAt);
        expect(got.finishedAt, `${name} #${i}`).toBe(want.finishedAt);
        expect(got.rid ?? null, `${name} #${i}`).toBe(want.rid);
        expect(got.stream, `${name} #${i}`).toBe(want.stream);
        expect(got.unfinished, `${name} #${i}`).toBe(want.unfinished);
        expect(bodyOf(got), `${name} #${i}`).toEqual(want.body);
      }
    });
  }

  it('sorts by creation time, not file order, and normalises media like the trusted replay', async () => {
    const { requests } = await loadReplayRequests(fx.file('crash_dump_p5.pkl'), { signal: signal() });
    expect(requests.map((r) => r.rid ?? null)).toEqual([
      'req-ids-4',
      'req-finished-1',
      'req-stream-2',
      null, // the batch request carries a list of rids
      'req-mm-5',
      'req-unfinished-7',
      'req-unfinished-6',
    ]);
    const mm = requests.find((r) => r.rid === 'req-mm-5')!;
    expect(bodyOf(mm).image_data).toEqual(['https://img.example/dog.png', 'https://img.example/cat.png', 'data:image/png;base64,iVBORw0KGgo=']);
    expect(bodyOf(mm).video_data).toEqual([['https://vid.example/a.mp4', 'https://vid.example/b.mp4']]);
    expect(bodyOf(mm).audio_data).toBe('file:///audio/a.wav');
    expect(bodyOf(mm)).not.toHaveProperty('input_ids'); // None fields are dropped
    const ids = requests.find((r) => r.rid === 'req-ids-4')!;
    expect(bodyOf(ids).input_ids).toEqual([1, 2, 3, 40000, 151643]);
    expect(bodyOf(ids).sampling_params).toMatchObject({ max_new_tokens: 4, temperature: 0.7 }); // a SamplingParams object → its fields
    expect([ids.recordedPromptTokens, ids.recordedCompletionTokens]).toEqual([5, 4]);
    const batch = requests[3]!;
    expect(bodyOf(batch).text).toEqual(['batch item one', 'batch item two']);
    expect(batch.recordedCompletionTokens).toBe(2);
    expect(requests.filter((r) => r.unfinished).map((r) => r.rid)).toEqual(['req-unfinished-7', 'req-unfinished-6']);
  });

  it('a folder means every *.pkl under it, recursively and sorted, merged in creation order', async () => {
    const dir = path.join(fx.dir, 'folder-input');
    mkdirSync(path.join(dir, 'pod-b'), { recursive: true });
    mkdirSync(path.join(dir, 'pod-a'), { recursive: true });
    copyFileSync(fx.file('crash_dump_p4.pkl'), path.join(dir, 'pod-b', 'crash_dump_2026-01-01_00-00-00.pkl'));
    copyFileSync(fx.file('bare_list.pkl'), path.join(dir, 'pod-a', 'old.pkl'));
    copyFileSync(fx.file('not_a_pickle.txt'), path.join(dir, 'notes.txt'));
    const { requests, files } = await loadReplayRequests(dir, { signal: signal() });
    expect(files).toEqual([path.join(dir, 'pod-a', 'old.pkl'), path.join(dir, 'pod-b', 'crash_dump_2026-01-01_00-00-00.pkl')]);
    expect(requests).toHaveLength(14);
    expect(requests.map((r) => r.index)).toEqual([...Array(14).keys()]);
    const times = requests.map((r) => r.createdAt);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('says clearly what is wrong with an input', async () => {
    const fail = async (input: string) => {
      try {
        await loadReplayRequests(input, { signal: signal() });
      } catch (err) {
        return err;
      }
      throw new Error(`expected ${input} to fail`);
    };
    const missing = await fail(fx.file('no-such.pkl'));
    expect(isTriageError(missing, 'E_NOT_FOUND')).toBe(true);
    const emptyDir = path.join(fx.dir, 'empty');
    mkdirSync(emptyDir);
    expect(String(await fail(emptyDir))).toMatch(/no \*\.pkl files/);
    const notDump = await fail(fx.file('values_p4.pkl'));
    expect(isTriageError(notDump, 'E_BAD_INPUT')).toBe(true);
    expect(String(notDump)).toMatch(/not an SGLang dump/);
    expect(isTriageError(await fail(fx.file('truncated_p4_2164.pkl')), 'E_BAD_INPUT')).toBe(true);
    const aborted = new AbortController();
    aborted.abort();
    await expect(loadReplayRequests(fx.file('crash_dump_p4.pkl'), { signal: aborted.signal })).rejects.toMatchObject({ code: 'E_ABORTED' });
  });

  it('knows a crash dump from a request dump from a bare list', async () => {
    expect((await loadDumpFile(fx.file('crash_dump_p4.pkl'), { signal: signal() })).kind).toBe('crash');
    expect((await loadDumpFile(fx.file('request_dump_none.pkl'), { signal: signal() })).kind).toBe('request');
    expect((await loadDumpFile(fx.file('bare_list.pkl'), { signal: signal() })).kind).toBe('bare-list');
  });
});
