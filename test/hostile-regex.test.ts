/**
 * Two patterns that backtracked quadratically on a long run followed by one wrong character (found by the
 * regex audit: 42 s and 14 s on 64 KiB). Each must now answer a 1 MiB run at once. A slow regex shows up
 * as a test that does not finish within vitest's timeout, so no time is asserted here.
 */
import { describe, expect, it } from 'vitest';
import { normaliseBaseUrl } from '../src/evidence/bundle/capture.js';
import { parseFloatLine } from '../src/evidence/pickle/text-ops.js';

describe('regexes that used to backtrack', () => {
  it('a pickle FLOAT argument of a million digits then a letter is rejected, not spun on', () => {
    expect(parseFloatLine(`${'1'.repeat(1 << 20)}x`)).toBeNull();
    expect(parseFloatLine('1.5e3')).toBe(1500);
    expect(parseFloatLine('-2.')).toBe(-2);
    expect(parseFloatLine('.25')).toBe(0.25);
  });

  it('a server URL ending in a million slashes keeps its path and loses the trailing slashes', () => {
    expect(normaliseBaseUrl(`http://127.0.0.1:30000/${'/'.repeat(1 << 20)}x`)).toMatch(/\/x$/);
    expect(normaliseBaseUrl(`http://127.0.0.1:30000/prefix${'/'.repeat(1 << 20)}`)).toBe('http://127.0.0.1:30000/prefix');
  });
});

describe('the replay target URL', () => {
  it('a target ending in a million slashes gets /generate appended at once', async () => {
    const { generateUrl } = await import('../src/replay/options.js');
    expect(generateUrl(`http://127.0.0.1:31000/v1${'/'.repeat(1 << 20)}`).pathname).toBe('/v1/generate');
  });
});
