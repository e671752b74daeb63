import { describe, expect, it } from 'vitest';
import { closestMatches, didYouMean, editDistance } from '../../src/cli/suggest.js';

describe('edit distance (optimal string alignment)', () => {
  it('counts insertions, deletions, substitutions and adjacent swaps as one edit each', () => {
    expect(editDistance('capture', 'capture')).toBe(0);
    expect(editDistance('captrue', 'capture')).toBe(1);
    expect(editDistance('captur', 'capture')).toBe(1);
    expect(editDistance('capturee', 'capture')).toBe(1);
    expect(editDistance('cepture', 'capture')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});

describe('closest matches', () => {
  const flags = ['--out', '--timeout', '--health-timeout', '--token', '--servers', '--json'];
  it('suggests what is close, closest first, and nothing for what is far', () => {
    expect(closestMatches('--timout', flags)).toEqual(['--timeout']);
    expect(closestMatches('--tokn', flags)).toEqual(['--token']);
    expect(closestMatches('--verbose', flags)).toEqual([]);
    expect(closestMatches('x', ['route', 'run'])).toEqual([]);
  });
  it('a unique prefix counts', () => {
    expect(closestMatches('--heal', flags)).toEqual(['--health-timeout']);
    expect(closestMatches('r', ['route', 'run'])).toEqual([]);
  });
  it('is case-insensitive and never suggests the input itself', () => {
    expect(closestMatches('PROD-A', ['prod-a', 'prod-b'])[0]).toBe('prod-a');
    expect(closestMatches('prod-a', ['prod-a'])).toEqual([]);
    expect(closestMatches('prod-c', ['prod-a', 'prod-b', 'staging'])).toEqual(['prod-a', 'prod-b']);
  });
  it('renders one or several names', () => {
    expect(didYouMean('rout', ['route', 'run'])).toBe(' Did you mean "route"?');
    expect(didYouMean('prod-c', ['prod-a', 'prod-b'])).toBe(' Did you mean "prod-a" or "prod-b"?');
    expect(didYouMean('zzz', ['route'])).toBe('');
  });
});
