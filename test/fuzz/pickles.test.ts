/**
 * Mutation fuzzing of the pickle reader, the dump summary and the replay bodies (issue 12, "How it
 * is judged"). Seeds are CPython-written fixtures (make_pickles.py and hostile_pickles.py, in
 * set-up); each case mutates one or two of them with a seeded generator and runs the whole path:
 * read → interpret as a dump → summary (+ its streamed JSON) → every replay body built → the
 * generic JSON conversion. Every failure must be a coded E_BAD_INPUT or E_LIMIT; every case must
 * end (bounded time) within a bounded heap.
 *
 *   npm test          FUZZ_CASES default 3000
 *   npm run fuzz      FUZZ_CASES=100000 (or set FUZZ_CASES / FUZZ_SEED yourself)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTriageError } from '../../src/errors.js';
import { interpretDump, replayRequestsOf, summarizeDumps } from '../../src/evidence/dump/index.js';
import { writeSummaryJson } from '../../src/evidence/dump/json-out.js';
import { DecodeBudget, pickleToJson, readPickle } from '../../src/evidence/pickle/index.js';
import { bodyOf } from '../../src/replay/engine.js';
import { writeFixtures, type Fixtures } from '../pickle/fixtures.js';
import { writeHostile, type Hostile } from '../pickle/hostile.js';

const CASES = Number(process.env.FUZZ_CASES ?? 3000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
/** Seeds larger than this are left out: mutations of small inputs cover the opcode paths fastest. */
const MAX_SEED_BYTES = 64 * 1024;
/** Per-case bounds: small, so hostile mutations meet them quickly. */
const LIMITS = { maxTimeMs: 5_000, maxAllocBytes: 64 * 1024 * 1024 };
/** A case that takes longer than this has hung (a generous bound for a shared 2-CPU box). */
const CASE_HANG_MS = 20_000;
const HEAP_BOUND_BYTES = 1.5 * 1024 * 1024 * 1024;

let fx: Fixtures;
let hostile: Hostile;
let seeds: Array<{ name: string; bytes: Buffer }> = [];

beforeAll(() => {
  fx = writeFixtures();
  hostile = writeHostile();
  for (const dir of [fx.dir, hostile.dir]) {
    for (const name of readdirSync(dir).sort()) {
      const file = path.join(dir, name);
      if (!name.endsWith('.pkl') || statSync(file).size > MAX_SEED_BYTES) continue;
      seeds.push({ name, bytes: readFileSync(file) });
    }
  }
}, 180_000);
afterAll(() => {
  fx.cleanup();
  hostile.cleanup();
});

/** mulberry32: small, seeded, good enough to spread mutations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Opcode bytes of protocols 0–5, so insertions land on real opcodes more often than chance. */
const OPCODES = Buffer.from('()*.012FGIJKLMNPQRSTUVX]abcdeghijlopqrstuz}\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98', 'latin1');

function mutate(rand: () => number, input: Buffer, other: Buffer): { bytes: Buffer; how: string[] } {
  let b = Buffer.from(input);
  const how: string[] = [];
  const at = (n = b.length) => Math.floor(rand() * Math.max(1, n));
  const rounds = rand() < 0.6 ? 1 : 2 + Math.floor(rand() * 3);
  for (let r = 0; r < rounds; r++) {
    const kind = Math.floor(rand() * 9);
    const i = at();
    switch (kind) {
      case 0: // flip a bit
        if (b.length) b[i] = b[i]! ^ (1 << Math.floor(rand() * 8));
        how.push(`flip@${i}`);
        break;
      case 1: // an opcode in place of a byte
        if (b.length) b[i] = OPCODES[at(OPCODES.length)]!;
        how.push(`op@${i}`);
        break;
      case 2: // cut short
        b = b.subarray(0, i);
        how.push(`truncate@${i}`);
        break;
      case 3: {
        // insert random bytes
        const ins = Buffer.from(Array.from({ length: 1 + at(8) }, () => (rand() < 0.5 ? OPCODES[at(OPCODES.length)]! : at(256))));
        b = Buffer.concat([b.subarray(0, i), ins, b.subarray(i)]);
        how.push(`insert@${i}`);
        break;
      }
      case 4: {
        // repeat a slice (memo refs, marks, builds repeated)
        const len = 1 + at(64);
        const slice = b.subarray(i, i + len);
        const times = 1 + at(16);
        b = Buffer.concat([b.subarray(0, i), ...Array.from({ length: times }, () => slice), b.subarray(i)]);
        how.push(`repeat@${i}x${times}`);
        break;
      }
      case 5: // a big length field
        if (b.length >= 4) {
          const j = Math.min(i, b.length - 4);
          b.writeUInt32LE([0xffffffff, 0x7fffffff, 1 << 20, 65536, 0][at(5)]!, j);
          how.push(`len@${j}`);
        }
        break;
      case 6: {
        // delete a slice
        const len = 1 + at(32);
        b = Buffer.concat([b.subarray(0, i), b.subarray(i + len)]);
        how.push(`delete@${i}+${len}`);
        break;
      }
      case 7: {
        // splice in part of another seed
        const j = at(other.length);
        const len = 1 + at(256);
        b = Buffer.concat([b.subarray(0, i), other.subarray(j, j + len), b.subarray(i)]);
        how.push(`splice@${i}`);
        break;
      }
      default: // small integer tweak (memo indexes, counts)
        if (b.length) b[i] = (b[i]! + (rand() < 0.5 ? 1 : 255)) & 0xff;
        how.push(`tweak@${i}`);
    }
  }
  return { bytes: b, how };
}

/** 'dump': read and summarised as a dump, bodies built; 'read': a pickle, but not a dump. */
type Result = 'dump' | 'read' | 'E_BAD_INPUT' | 'E_LIMIT';

/** The whole path a dump takes through triage; returns how it ended or throws an uncoded error. */
async function exercise(bytes: Buffer, name: string): Promise<Result> {
  const signal = new AbortController().signal;
  try {
    const budget = new DecodeBudget({ maxBytes: LIMITS.maxAllocBytes, maxTimeMs: LIMITS.maxTimeMs });
    const read = await readPickle(bytes, { limits: LIMITS, budget, sliceMs: 1000 });
    pickleToJson(read.value, { budget, maxNodes: 200_000 });
    let dump;
    try {
      dump = interpretDump(name, read.value, read.protocol, bytes.length, budget);
    } catch (err) {
      if (isTriageError(err, 'E_BAD_INPUT') && err.details.notADump === true) return 'read';
      throw err;
    }
    const summary = summarizeDumps([dump]);
    await writeSummaryJson(summary, async () => {});
    const { requests } = replayRequestsOf([dump], signal);
    for (const r of requests) {
      try {
        JSON.stringify(bodyOf(r));
      } catch (err) {
        // The engine records a body that cannot be built as a bad record; it must be a coded error.
        if (!isTriageError(err, 'E_BAD_INPUT') && !isTriageError(err, 'E_LIMIT')) throw err;
      }
    }
    return 'dump';
  } catch (err) {
    if (isTriageError(err, 'E_BAD_INPUT')) return 'E_BAD_INPUT';
    if (isTriageError(err, 'E_LIMIT')) return 'E_LIMIT';
    throw err;
  }
}

describe(`fuzz: ${CASES} mutated pickles through reader, summary and replay bodies (seed ${SEED})`, () => {
  it('every case ends with a result or a coded error, in bounded time and heap', async () => {
    expect(seeds.length).toBeGreaterThan(10);
    const rand = prng(SEED);
    const tally: Record<Result, number> = { dump: 0, read: 0, E_BAD_INPUT: 0, E_LIMIT: 0 };
    const uncoded: string[] = [];
    let slowest = 0;
    let peakHeap = 0;
    const started = performance.now();
    for (let n = 0; n < CASES; n++) {
      const seed = seeds[Math.floor(rand() * seeds.length)]!;
      const other = seeds[Math.floor(rand() * seeds.length)]!;
      const { bytes, how } = mutate(rand, seed.bytes, other.bytes);
      const t = performance.now();
      try {
        tally[await exercise(bytes, seed.name)]++;
      } catch (err) {
        uncoded.push(`case ${n} (${seed.name} ${how.join(' ')}): ${(err as Error).stack?.split('\n').slice(0, 3).join(' | ')}`);
      }
      const took = performance.now() - t;
      slowest = Math.max(slowest, took);
      if (took > CASE_HANG_MS) uncoded.push(`case ${n} (${seed.name} ${how.join(' ')}) took ${Math.round(took)} ms`);
      if (n % 100 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    }
    const passed = CASES - uncoded.length;
    console.log(
      `fuzz: ${CASES} cases tried, ${passed} passed (${tally.dump} read as dumps and summarised with every body built, ${tally.read} other pickles read, ${tally.E_BAD_INPUT} E_BAD_INPUT, ${tally.E_LIMIT} E_LIMIT), ` +
        `${seeds.length} seeds, slowest case ${Math.round(slowest)} ms, peak heap ${Math.round(peakHeap / 1024 / 1024)} MiB, ${Math.round((performance.now() - started) / 1000)} s`,
    );
    expect(uncoded.slice(0, 10)).toEqual([]);
    expect(peakHeap).toBeLessThan(HEAP_BOUND_BYTES);
    // Not all mutations break the input: the summary and body paths were really exercised.
    expect(tally.dump + tally.read).toBeGreaterThan(CASES / 20);
    expect(tally.dump).toBeGreaterThan(CASES / 100);
  }, Math.max(120_000, CASES * 200));
});
