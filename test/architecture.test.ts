/**
 * Layers import downward only, and nothing imports in a circle. The layers, bottom first:
 *   contracts, util, errors, incident/layout.ts (the incident folder contract) → config → sglang → evidence
 *   → replay → triage → incident → templates → target → pipelines → queue → slack, cli, commands
 * templates are pure renderers of contracts (and of incident records) for pipelines and transports.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/tmp.js';

const ROOTS = ['src', 'templates', 'commands'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

// Type-only imports count too: a cycle of types is still two modules that cannot be read apart.
const IMPORT = /^\s*(?:import|export)\s+(?:[^'"]*?\sfrom\s+)?['"](\.[^'"]+)['"]/gm;

function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const root of ROOTS) {
    for (const file of files(path.join(REPO_ROOT, root))) {
      const text = readFileSync(file, 'utf8');
      const deps = [...text.matchAll(IMPORT)].map((m) => path.relative(REPO_ROOT, path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, '.ts'))));
      g.set(path.relative(REPO_ROOT, file), deps);
    }
  }
  return g;
}

const LAYERS: Array<[RegExp, number]> = [
  [/^src\/(contracts|util|fsutil)\//, 0],
  [/^src\/errors\.ts$/, 0],
  [/^src\/incident\/layout\.ts$/, 0],
  [/^src\/config\//, 1],
  [/^src\/sglang\//, 2],
  [/^src\/evidence\//, 3],
  [/^src\/replay\//, 4],
  [/^src\/triage\//, 5],
  [/^src\/incident\//, 6],
  [/^templates\//, 6.5],
  [/^src\/target\//, 7],
  [/^src\/pipelines\//, 8],
  [/^src\/queue\//, 9],
  [/^src\/(slack|cli)\//, 10],
  [/^commands\//, 10],
];
const layerOf = (f: string) => LAYERS.find(([re]) => re.test(f))?.[1];

describe('architecture', () => {
  it('no import cycles (type-only imports included)', () => {
    const g = graph();
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const stack: string[] = [];
    const visit = (n: string) => {
      state.set(n, 'visiting');
      stack.push(n);
      for (const d of g.get(n) ?? []) {
        if (!g.has(d)) continue;
        if (state.get(d) === 'visiting') cycles.push([...stack.slice(stack.indexOf(d)), d].join(' → '));
        else if (!state.has(d)) visit(d);
      }
      stack.pop();
      state.set(n, 'done');
    };
    for (const n of g.keys()) if (!state.has(n)) visit(n);
    expect(cycles).toEqual([]);
  });

  it('each layer imports only its own layer or the ones below', () => {
    const upward: string[] = [];
    for (const [file, deps] of graph()) {
      const mine = layerOf(file);
      if (mine === undefined) continue;
      for (const d of deps) {
        const theirs = layerOf(d);
        if (theirs !== undefined && theirs > mine) upward.push(`${file} → ${d}`);
      }
    }
    expect(upward).toEqual([]);
  });
});
