import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseComputeSanitizer } from '../../src/evidence/gpu/compute-sanitizer.js';
import { parseCoredumpProgress } from '../../src/evidence/gpu/coredump-progress.js';
import { parseCudaGdb } from '../../src/evidence/gpu/cuda-gdb-parse.js';
import { readNcclText } from '../../src/evidence/gpu/nccl-log.js';
import { parseNvidiaSmi } from '../../src/evidence/gpu/nvidia-smi.js';
import { mainThreadOf, parsePythonStacks } from '../../src/evidence/gpu/python-stacks-parse.js';
import { stallPointOf } from '../../src/evidence/gpu/python-stall.js';
import { parseServerLog } from '../../src/evidence/gpu/server-log-parse.js';
import { reportSchema } from '../../src/contracts/report.js';
import { HANDMADE, REAL, handmade, prng, real, routeSources, type Source } from './helpers.js';

const PARSERS: Array<[string, (text: string) => unknown]> = [
  ['cuda-gdb', parseCudaGdb],
  ['compute-sanitizer', parseComputeSanitizer],
  ['coredump-progress', parseCoredumpProgress],
  ['python-stacks', (t) => parsePythonStacks(t).processes.map((p) => mainThreadOf(p) && stallPointOf(mainThreadOf(p)!))],
  ['nccl', readNcclText],
  ['nvidia-smi', parseNvidiaSmi],
  ['server-log', parseServerLog],
];

const GARBAGE = ['\u0000\u0001\u00ff', '#', '#0', 'Thread 1 (', '  File "', '=========     at ', 'x:1:2 [3] NCCL INFO AllGather: opCount', '*> 0x', 'CUDA Exception:', 'Traceback (most recent call last):', '[TP', '\u{1F525}', ']]]]', 'Process : '];

async function textFixtures(): Promise<Array<{ name: string; text: string }>> {
  const realNames = (await readdir(REAL)).filter((n) => !n.endsWith('.xz') && !n.endsWith('.md'));
  const handNames = (await readdir(HANDMADE)).filter((n) => !n.endsWith('.md'));
  return [
    ...(await Promise.all(realNames.map(async (name) => ({ name: `real/${name}`, text: await real(name) })))),
    ...(await Promise.all(handNames.map(async (name) => ({ name: `handmade/${name}`, text: await handmade(name) })))),
  ];
}

describe('parsers survive truncation and junk', () => {
  it('every parser on every fixture cut at 40 random points, with junk spliced in, never throws', async () => {
    const rand = prng(42);
    let runs = 0;
    for (const { name, text } of await textFixtures()) {
      for (let i = 0; i < 40; i++) {
        const cut = Math.floor(rand() * (text.length + 1));
        const junk = GARBAGE[Math.floor(rand() * GARBAGE.length)]!;
        const at = Math.floor(rand() * (cut + 1));
        const variants = [text.slice(0, cut), text.slice(cut), `${text.slice(0, at)}${junk}${text.slice(at, cut)}`];
        for (const variant of variants) {
          for (const [parser, parse] of PARSERS) {
            expect(() => parse(variant), `${parser} on ${name} cut at ${cut}`).not.toThrow();
            runs++;
          }
        }
      }
    }
    expect(runs).toBeGreaterThan(1000);
  });

  it('CRLF line endings and tabs parse the same as LF', async () => {
    const text = await real('crash.cuda-gdb.txt');
    const lf = parseCudaGdb(text);
    const crlf = parseCudaGdb(text.replace(/\n/g, '\r\n'));
    expect(crlf.exception).toEqual(lf.exception);
    expect(crlf.kernel).toEqual(lf.kernel);
  });

  it('scanning and routing folders of truncated real files always yields a valid report', async () => {
    const rand = prng(7);
    const names = (await readdir(REAL)).filter((n) => !n.endsWith('.md'));
    for (let round = 0; round < 12; round++) {
      const sources: Source[] = [];
      for (const name of names) {
        if (rand() < 0.4) continue;
        if (name.endsWith('.xz')) {
          sources.push({ real: name });
          continue;
        }
        const text = await real(name);
        sources.push({ name, text: text.slice(0, Math.floor(rand() * text.length)) });
      }
      const { report } = await routeSources(sources, round);
      expect(() => reportSchema.parse(report)).not.toThrow();
    }
  });
});
