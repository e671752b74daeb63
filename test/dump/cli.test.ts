import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/tmp.js';
import { writeFixtures, type Fixtures } from '../pickle/fixtures.js';

const run = promisify(execFile);
const BIN = path.join(REPO_ROOT, 'bin', 'triage.js');

async function triage(args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let fx: Fixtures;
beforeAll(() => {
  fx = writeFixtures();
});
afterAll(() => fx.cleanup());

describe('triage dump (built CLI, as a subprocess)', () => {
  it('--json prints exactly one JSON document on stdout', async () => {
    const r = await triage(['dump', fx.file('crash_dump_p4.pkl'), '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.kind).toBe('crash');
    expect(doc.counts.unfinished).toBe(2);
    expect(doc.triggerCandidates).toEqual(['req-unfinished-6', 'req-unfinished-7']);
    expect(r.stdout).not.toMatch(/SECRET/);
    expect(r.stderr).toMatch(/read 7 requests/);
  });

  it('without --json, the summary is the report, on stdout (`triage dump x > s.txt` keeps it); stderr stays quiet', async () => {
    const r = await triage(['dump', fx.file('crash_dump_p0.pkl')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/strongest trigger candidates/);
    expect(r.stdout).toContain('--api-key <redacted>');
  });

  it('--out DIR writes dump-summary.json', async () => {
    const out = path.join(fx.dir, 'cli-out');
    const r = await triage(['dump', fx.file('crash_dump_p5.pkl'), '--out', out, '--json']);
    expect(r.code).toBe(0);
    const written = path.join(out, 'dump-summary.json');
    expect(existsSync(written)).toBe(true);
    expect(JSON.parse(readFileSync(written, 'utf8'))).toEqual(JSON.parse(r.stdout));
  });

  it('missing input → exit 1 with a clear message; bad arguments → exit 2', async () => {
    const missing = await triage(['dump', fx.file('nope.pkl')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no such file or folder: .*nope\.pkl/);
    expect((await triage(['dump'])).code).toBe(2);
    expect((await triage(['dump', 'a', 'b'])).code).toBe(2);
    expect((await triage(['dump', fx.file('crash_dump_p4.pkl'), '--bogus'])).code).toBe(2);
  });

  it('a hostile pickle runs nothing through the CLI either', async () => {
    const r = await triage(['dump', fx.file('hostile_p4.pkl'), '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not an SGLang dump/);
    expect(existsSync(fx.marker)).toBe(false);
  });

  it('a truncated dump → exit 1 naming offset and opcode', async () => {
    const r = await triage(['dump', fx.file('truncated_p2_1635.pkl')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pickle: truncated \w+ .*at offset \d+ \(opcode 0x[0-9a-f]{2}\)/);
  });
});
