/**
 * examples/servers.yaml is what a newcomer copies: it must load through the real schema, show every
 * block the README promises, and be the same text the README shows.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRegistry } from '../../src/config/servers.js';
import { REPO_ROOT } from '../helpers/tmp.js';

const FILE = path.join(REPO_ROOT, 'examples', 'servers.yaml');
const text = readFileSync(FILE, 'utf8');

describe('examples/servers.yaml', () => {
  it('loads through the registry schema', () => {
    expect(() => parseRegistry(text, FILE)).not.toThrow();
  });

  it('has a production server with a managed clean replay target, an old server without one, access and alerts', () => {
    const registry = parseRegistry(text, FILE);
    const prod = registry.servers['prod-a']!;
    expect(prod.replay).toMatchObject({ url: 'http://127.0.0.1:31000', managed: true, readyTimeoutS: 900 });
    expect(prod.replay!.launch).toMatch(/sglang\.launch_server .*--port 31000/);
    expect(new URL(prod.url).port).not.toBe(new URL(prod.replay!.url).port);
    const legacy = registry.servers['legacy-b']!;
    expect(legacy.replay).toBeUndefined();
    expect(registry.access.channels[0]).toMatch(/^C[A-Z0-9]+$/);
    expect(registry.access.intrusiveUsers[0]).toMatch(/^U[A-Z0-9]+$/);
    expect(registry.access.intrusiveGroups[0]).toMatch(/^S[A-Z0-9]+$/);
    const alerts = (registry as unknown as { alerts?: { channel: string; serverLabel: string } }).alerts;
    expect(alerts).toEqual({ channel: 'C0123456789', serverLabel: 'server' });
  });

  it('names token variables, never tokens', () => {
    const registry = parseRegistry(text, FILE);
    const names = Object.values(registry.servers).flatMap((s) => [s.tokenEnv, s.adminTokenEnv, s.replay?.tokenEnv]).filter(Boolean);
    expect(names.length).toBeGreaterThan(2);
    for (const n of names) expect(n).toMatch(/^[A-Z_][A-Z0-9_]*$/);
  });

  it('is the servers.yaml the README shows, byte for byte', () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks).toContain(text);
  });
});
