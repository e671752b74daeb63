import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PyBytes,
  PyGlobal,
  PyObject,
  PyOutOfBandBuffer,
  PySet,
  PyText,
  PyTuple,
  pickleToJson,
  readPickle,
  readPickleFile,
  type PickleValue,
} from '../../src/evidence/pickle/index.js';
import { writeFixtures, type Fixtures } from './fixtures.js';

let fx: Fixtures;
beforeAll(() => {
  fx = writeFixtures();
});
afterAll(() => fx.cleanup());

const get = (v: PickleValue, key: string): PickleValue => (v as Map<PickleValue, PickleValue>).get(key)!;

describe('values written by CPython, protocols 0-5', () => {
  for (const proto of [0, 1, 2, 3, 4, 5]) {
    const name = `values_p${proto}.pkl`;

    it(`${name}: JSON matches what CPython's own objects map to`, async () => {
      const { value, protocol } = await readPickleFile(fx.file(name));
      expect(protocol).toBe(proto < 2 ? 0 : proto);
      expect(pickleToJson(value)).toEqual(fx.manifest.values[name]);
    });

    it(`${name}: the same through a 7-byte sliding window and from a buffer`, async () => {
      const whole = await readPickle(readFileSync(fx.file(name)));
      const windowed = await readPickleFile(fx.file(name), { windowBytes: 7 });
      expect(pickleToJson(windowed.value)).toEqual(pickleToJson(whole.value));
      expect(windowed.length).toBe(whole.length);
    });
  }

  it('keeps Python types apart: tuple, set, frozenset, bytes, bytearray, big ints, enums, classes', async () => {
    const { value } = await readPickleFile(fx.file('values_p4.pkl'));
    expect(get(value, 'tuple')).toBeInstanceOf(PyTuple);
    const set = get(value, 'set') as PySet;
    const frozen = get(value, 'frozenset') as PySet;
    expect([set.frozen, frozen.frozen]).toEqual([false, true]);
    expect((get(value, 'bytes') as PyBytes).mutable).toBe(false);
    expect((get(value, 'bytearray') as PyBytes).data.toString()).toBe('mutable');
    expect((get(value, 'bytearray') as PyBytes).mutable).toBe(true);
    const ints = get(value, 'ints') as PickleValue[];
    expect(ints).toContain(2n ** 63n);
    expect(ints).toContain(-(2n ** 70n));
    expect(ints).toContain(2 ** 53 - 1);
    const enumValue = get(value, 'enum_int') as PyObject;
    expect(enumValue.isEnumLike).toBe(true);
    expect(enumValue.className).toBe('sglang.srt.speculative.spec_info.SpeculativeAlgorithm');
    const dc = get(value, 'dataclass') as PyObject;
    expect(dc.cls).toEqual(new PyGlobal('sglang.srt.sampling_params', 'SamplingParams'));
    expect(dc.field('max_new_tokens')).toBe(3);
    const slots = get(value, 'slots') as PyObject;
    expect(slots.field('url')).toBe('https://img.example/x.png');
    expect(slots.field('detail')).toBe('auto');
    // One Python object referenced twice stays one object (memo), not two copies.
    expect(get(value, 'shared_a')).toBe(get(value, 'shared_b'));
  });

  it('protocol-0 text forms decode escapes (raw-unicode-escape and latin1)', async () => {
    const { value } = await readPickleFile(fx.file('values_p0.pkl'));
    expect(get(value, 'text')).toContain('new\nline\\back\rslash\x1a\x00');
    expect(get(value, 'text')).toContain('emoji 🚀');
  });

  it('protocol-5 out-of-band buffers become inert records (no buffers are supplied)', async () => {
    const { value } = await readPickleFile(fx.file('oob_p5.pkl'));
    const weights = get(value, 'weights') as PyOutOfBandBuffer;
    const frozen = get(value, 'frozen') as PyOutOfBandBuffer;
    expect(weights).toBeInstanceOf(PyOutOfBandBuffer);
    expect([weights.index, weights.isReadonly]).toEqual([0, false]);
    expect([frozen.index, frozen.isReadonly]).toEqual([1, true]);
    expect(pickleToJson(value)).toEqual({
      weights: { $outOfBandBuffer: 0, readonly: false },
      frozen: { $outOfBandBuffer: 1, readonly: true },
      inline: { $bytes: Buffer.from('in band').toString('base64'), length: 7 },
    });
    expect(fx.manifest.values['oob_p5.pkl']).toEqual({ buffers: 2 });
  });

  it('long strings stay in the file as PyText and decode to the same text as eager reading', async () => {
    for (const name of ['crash_dump_p4.pkl', 'crash_dump_p2.pkl', 'values_p5.pkl']) {
      const lazy = await readPickleFile(fx.file(name), { lazyTextBytes: 8 });
      const eager = await readPickleFile(fx.file(name), { lazyTextBytes: Infinity });
      expect(pickleToJson(lazy.value), name).toEqual(pickleToJson(eager.value));
    }
    const { value } = await readPickleFile(fx.file('shared_big.pkl'));
    const first = (value as PickleValue[])[0] as PyText;
    expect(first).toBeInstanceOf(PyText);
    expect(first.byteLength).toBe(100_000);
    expect(first.preview(5)).toBe('xxxxx');
    expect(first.toString()).toBe('x'.repeat(100_000));
  });

  it('a preview never ends in half a character', async () => {
    const { value } = await readPickleFile(fx.file('values_p4.pkl'), { lazyTextBytes: 4 });
    const texts = get(value, 'text') as PickleValue[];
    const emoji = texts.find((t) => t instanceof PyText && t.toString().startsWith('emoji')) as PyText;
    expect(emoji.preview(7)).toBe('emoji ');
    expect(emoji.preview(8)).toBe('emoji 🚀');
    const cjk = texts.find((t) => t instanceof PyText && t.toString().startsWith('中')) as PyText;
    expect(cjk.preview(1)).toBe('中');
  });

  it('refuses to decode text from a file that changed after reading', async () => {
    const copy = path.join(fx.dir, 'changing.pkl');
    copyFileSync(fx.file('shared_big.pkl'), copy);
    const { value } = await readPickleFile(copy);
    const text = (value as PickleValue[])[0] as PyText;
    writeFileSync(copy, readFileSync(fx.file('shared_big.pkl')).subarray(0, 1000));
    expect(() => text.toString()).toThrowError(expect.objectContaining({ code: 'E_BAD_INPUT' }));
  });

  it('reads the sglang dataclasses of a crash dump as records with fields', async () => {
    const { value } = await readPickleFile(fx.file('crash_dump_p5.pkl'));
    const serverArgs = get(value, 'server_args') as PyObject;
    expect(serverArgs.className).toBe('sglang.srt.server_args.ServerArgs');
    expect(serverArgs.field('tp_size')).toBe(2);
    const records = get(value, 'requests') as PickleValue[];
    expect(records).toHaveLength(7);
    const [req, , created] = (records[0] as PyTuple).items;
    expect((req as PyObject).className).toBe('sglang.srt.managers.io_struct.GenerateReqInput');
    expect(typeof created).toBe('number');
  });
});
