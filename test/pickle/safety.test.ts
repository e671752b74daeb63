import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TriageError } from '../../src/errors.js';
import { PyGlobal, PyObject, pickleToJson, readPickle, readPickleFile, type PickleValue } from '../../src/evidence/pickle/index.js';
import { writeFixtures, type Fixtures } from './fixtures.js';

let fx: Fixtures;
beforeAll(() => {
  fx = writeFixtures();
});
afterAll(() => fx.cleanup());

async function failure(promise: Promise<unknown>): Promise<TriageError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(TriageError);
    return err as TriageError;
  }
  throw new Error('expected the read to fail');
}

describe('hostile pickles run nothing', () => {
  for (const proto of [0, 2, 4]) {
    it(`REDUCE of os.system / eval / subprocess.Popen stays an inert record (protocol ${proto})`, async () => {
      const { value } = await readPickleFile(fx.file(`hostile_p${proto}.pkl`));
      const calls = value as Map<string, PyObject>;
      const names = [...calls.values()].map((call) => call.className);
      expect(names).toEqual(fx.manifest.hostile.calls);
      const system = calls.get('system')!;
      expect(system).toBeInstanceOf(PyObject);
      expect(system.construction).toBe('reduce');
      expect(system.args).toEqual([`touch ${fx.marker}`]);
      expect(system.isEnumLike).toBe(false);
      expect(pickleToJson(value)).toMatchObject({ system: { $class: fx.manifest.hostile.calls[0], $args: [`touch ${fx.marker}`] } });
      // Give anything that might have been scheduled a chance to run, then look for its trace.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(existsSync(fx.marker)).toBe(false);
    });
  }

  it('control: the same fixture under CPython pickle.load does run its command', () => {
    const live = writeFixtures();
    try {
      // Only `touch <marker in a temp dir>`: proves the hostile fixtures are live, so the test above means something.
      execFileSync('python3', ['-c', 'import pickle,sys; pickle.load(open(sys.argv[1], "rb"))', live.file('hostile_p4.pkl')]);
      expect(existsSync(live.marker)).toBe(true);
    } finally {
      live.cleanup();
    }
  });

  it('a class reference is a name, never a resolved value', async () => {
    const { value } = await readPickleFile(fx.file('hostile_p4.pkl'));
    const popen = (value as Map<string, PyObject>).get('popen')!;
    expect(popen.cls).toEqual(new PyGlobal('subprocess', 'Popen'));
  });
});

describe('corrupt and hostile input gives a clear error', () => {
  it('truncation anywhere is E_BAD_INPUT with offset and opcode', async () => {
    expect(fx.manifest.hostile.truncated.length).toBeGreaterThanOrEqual(10);
    for (const name of fx.manifest.hostile.truncated) {
      const err = await failure(readPickleFile(fx.file(name)));
      expect(err.code, name).toBe('E_BAD_INPUT');
      expect(err.message, name).toMatch(/^pickle: (not a pickle \()?truncated/);
      expect(typeof err.details.offset, name).toBe('number');
      expect(err.details.offset as number, name).toBeLessThanOrEqual(readFileSync(fx.file(name)).length);
    }
  });

  it('names the opcode and offset of a truncated string', async () => {
    const err = await failure(readPickleFile(fx.file('huge_binunicode.pkl')));
    expect(err.message).toBe('pickle: truncated BINUNICODE (claims 4294967280 bytes, 4 remain) at offset 2 (opcode 0x58)');
    expect(err.details).toMatchObject({ offset: 2, opcode: 0x58, opcodeName: 'BINUNICODE' });
  });

  it('a length of 2^60 is refused before any allocation', async () => {
    const before = process.memoryUsage().arrayBuffers;
    for (const name of ['huge_unicode8.pkl', 'huge_bytes8.pkl', 'huge_frame.pkl']) {
      const err = await failure(readPickleFile(fx.file(name)));
      expect(err.code, name).toBe('E_BAD_INPUT');
      expect(err.message, name).toMatch(/truncated (BINUNICODE8|BYTEARRAY8|FRAME) \(claims \d+ bytes/);
    }
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('a 2 GB integer is a limit error, not a hang', async () => {
    const err = await failure(readPickleFile(fx.file('huge_long4.pkl')));
    expect(err.code).toBe('E_LIMIT');
  });

  it('files that are not pickles say so', async () => {
    for (const name of ['not_a_pickle.txt', 'not_a_pickle.json']) {
      const err = await failure(readPickleFile(fx.file(name)));
      expect(err.code, name).toBe('E_BAD_INPUT');
      expect(err.message, name).toMatch(/not a pickle/);
    }
    const empty = await failure(readPickle(Buffer.alloc(0)));
    expect(empty.message).toMatch(/empty input/);
  });

  it('other structural faults: unknown protocol, missing memo key, missing file', async () => {
    expect((await failure(readPickleFile(fx.file('bad_proto.pkl')))).message).toMatch(/unsupported protocol 9/);
    expect((await failure(readPickleFile(fx.file('memo_missing.pkl')))).message).toMatch(/memo key 7 not found/);
    expect((await failure(readPickleFile(fx.file('does-not-exist.pkl')))).code).toBe('E_NOT_FOUND');
  });
});

describe('nesting 200 000 deep: no recursion, bounded', () => {
  it('reads a 200 000-deep list from a flat stack, and JSON conversion refuses it with E_LIMIT', async () => {
    const { value } = await readPickleFile(fx.file('deep_stack.pkl'));
    let depth = 0;
    for (let v: PickleValue = value; Array.isArray(v) && v.length; v = v[0]!) depth++;
    expect(depth).toBe(199_999);
    expect(() => pickleToJson(value)).toThrowError(expect.objectContaining({ code: 'E_LIMIT' }));
  });

  it('the stack bound turns the same file into E_LIMIT', async () => {
    const err = await failure(readPickleFile(fx.file('deep_stack.pkl'), { limits: { maxStackDepth: 10_000 } }));
    expect(err.code).toBe('E_LIMIT');
    expect(err.message).toMatch(/stack depth limit/);
  });

  it('200 000 open MARKs: a bad STOP by default, E_LIMIT under a bound', async () => {
    expect((await failure(readPickleFile(fx.file('deep_marks.pkl')))).code).toBe('E_BAD_INPUT');
    expect((await failure(readPickleFile(fx.file('deep_marks.pkl'), { limits: { maxStackDepth: 1000 } }))).code).toBe('E_LIMIT');
  });

  it('a 200 000-deep chain built through the memo reads, and converts within a raised bound', async () => {
    const { value } = await readPickleFile(fx.file('deep_chain.pkl'));
    let depth = 0;
    for (let v: PickleValue = value; Array.isArray(v) && v.length; v = v[0]!) depth++;
    expect(depth).toBe(200_000);
    expect(() => pickleToJson(value)).toThrowError(/nesting deeper than 1000/);
    // The converter itself is iterative: a bound above the depth converts without a stack overflow.
    const json = pickleToJson(value, { maxDepth: 250_000 });
    let jsonDepth = 0;
    for (let v: unknown = json; Array.isArray(v) && v.length; v = v[0]) jsonDepth++;
    expect(jsonDepth).toBe(200_000);
  });
});

describe('resource bounds', () => {
  it('allocation, memo and time limits are enforced', async () => {
    const eager = { lazyTextBytes: Infinity, limits: { maxAllocBytes: 50_000 } };
    expect((await failure(readPickleFile(fx.file('shared_big.pkl'), eager))).code).toBe('E_LIMIT');
    expect((await failure(readPickleFile(fx.file('deep_chain.pkl'), { limits: { maxMemo: 1000 } }))).message).toMatch(/memo size limit/);
    expect((await failure(readPickleFile(fx.file('deep_chain.pkl'), { limits: { maxTimeMs: 0 } }))).message).toMatch(/time limit/);
    expect((await failure(readPickleFile(fx.file('crash_dump_p4.pkl'), { limits: { maxContainerLength: 3 } }))).message).toMatch(/container length/);
  });

  it('an AbortSignal stops a read between slices', async () => {
    const controller = new AbortController();
    const reading = readPickleFile(fx.file('deep_chain.pkl'), { signal: controller.signal, sliceMs: 0 });
    controller.abort(new Error('test'));
    expect((await failure(reading)).code).toBe('E_ABORTED');
  });

  it('one string referenced 1000 times is bounded in JSON, not expanded without limit', async () => {
    const { value } = await readPickleFile(fx.file('shared_big.pkl'));
    expect(() => pickleToJson(value, { maxStringChars: 1_000_000 })).toThrowError(expect.objectContaining({ code: 'E_LIMIT' }));
    expect((pickleToJson(value) as string[]).length).toBe(1000);
  });
});
