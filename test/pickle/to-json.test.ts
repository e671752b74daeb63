import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickleToJson, readPickleFile } from '../../src/evidence/pickle/index.js';
import { decodeRawUnicodeEscape, decodeSignedLE, decodeStringLiteral, parseFloatLine, parseIntLine } from '../../src/evidence/pickle/text-ops.js';
import { writeFixtures, type Fixtures } from './fixtures.js';

let fx: Fixtures;
beforeAll(() => {
  fx = writeFixtures();
});
afterAll(() => fx.cleanup());

describe('pickleToJson', () => {
  it('marks a list that contains itself instead of looping', async () => {
    const { value } = await readPickleFile(fx.file('cycle.pkl'));
    expect(pickleToJson(value)).toEqual({ loop: ['head', { $cycle: 'list' }] });
  });

  it('a "__proto__" key is data in a null-prototype object and pollutes nothing', async () => {
    const { value } = await readPickleFile(fx.file('proto_key.pkl'));
    const json = pickleToJson(value) as Record<string, unknown>;
    expect(Object.getPrototypeOf(json)).toBe(null);
    expect(Object.getPrototypeOf(json.__proto__)).toBe(null);
    expect((json.__proto__ as Record<string, unknown>).polluted).toBe(true);
    expect(Object.keys(json)).toEqual(['__proto__', 'constructor']);
    expect(JSON.parse(JSON.stringify(json))).toEqual(JSON.parse('{"__proto__":{"polluted":true},"constructor":"x"}'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('long bytes carry a preview and the length; base64 mode carries all of it', async () => {
    const { value } = await readPickleFile(fx.file('big_bytes.pkl'));
    const tagged = pickleToJson(value) as { blob: { $bytes: string; length: number; truncated: boolean } };
    expect(tagged.blob.length).toBe(10_240);
    expect(tagged.blob.truncated).toBe(true);
    expect(Buffer.from(tagged.blob.$bytes, 'base64')).toEqual(Buffer.from([...Array(64).keys()]));
    const plain = pickleToJson(value, { bytes: 'base64' }) as { blob: string };
    expect(Buffer.from(plain.blob, 'base64').length).toBe(10_240);
  });

  it('"fields" mode turns dataclasses into their fields and enums into their values', async () => {
    const { value } = await readPickleFile(fx.file('values_p4.pkl'));
    const json = pickleToJson(value, { records: 'fields' }) as Record<string, unknown>;
    expect(json.dataclass).toEqual({ max_new_tokens: 3, temperature: 1.0, top_p: 1.0, stop: ['</s>'], ignore_eos: false });
    expect(json.enum_int).toBe(1);
    expect(json.enum_str).toBe('video');
  });
});

describe('protocol-0 text decoders', () => {
  it('decode Python literals', () => {
    expect(decodeStringLiteral(String.raw`'a\nb\x41\101\'\\'`)).toBe("a\nbAA'\\");
    expect(decodeStringLiteral('"unterminated')).toBeNull();
    expect(decodeRawUnicodeEscape(String.raw`caf\u00e9 \U0001f680 \u005c`)).toBe('café 🚀 \\');
    expect(parseIntLine('01')).toBe(true);
    expect(parseIntLine('-12345678901234567890')).toBe(-12345678901234567890n);
    expect(parseIntLine('12a')).toBeNull();
    expect(parseFloatLine('1e+300')).toBe(1e300);
    expect(parseFloatLine('-inf')).toBe(-Infinity);
    expect(parseFloatLine('abc')).toBeNull();
  });

  it('decode little-endian two’s complement longs', () => {
    const le = (...bytes: number[]) => decodeSignedLE(Uint8Array.from(bytes), 0, bytes.length);
    expect(le()).toBe(0);
    expect(le(0xff)).toBe(-1);
    expect(le(0x00, 0x80)).toBe(-32768);
    expect(le(0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)).toBe(2 ** 47 - 1);
    expect(le(0, 0, 0, 0, 0, 0, 0, 0x80)).toBe(-(2n ** 63n));
    expect(le(0, 0, 0, 0, 0, 0, 0x10, 0)).toBe(2 ** 52);
  });
});
