import { describe, expect, it } from 'vitest';
import { parseRegistry } from '../../src/config/servers.js';
import { isTriageError } from '../../src/errors.js';

const ok = `
servers:
  prod-a:
    url: http://10.0.0.5:30000
    tokenEnv: PROD_A_TOKEN
    host: gpu-host-1
    crashDumpDir: /data/crash
    replay: { url: "http://127.0.0.1:31000", launch: "python -m sglang.launch_server --api-key sk-x" }
access:
  channels: [C123]
`;

function errorOf(text: string): string {
  try {
    parseRegistry(text, 'servers.yaml');
  } catch (err) {
    expect(isTriageError(err, 'E_CONFIG')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected a config error');
}

describe('servers.yaml', () => {
  it('accepts a valid registry and fills defaults', () => {
    const r = parseRegistry(ok, 'servers.yaml');
    expect(r.servers['prod-a']!.host).toBe('gpu-host-1');
    expect(r.access.intrusiveUsers).toEqual([]);
  });

  it('an unknown key gives a dot-path error saying how to fix it', () => {
    const msg = errorOf(ok.replace('crashDumpDir', 'crashDumpDirr'));
    expect(msg).toContain('servers.prod-a');
    expect(msg).toMatch(/crashDumpDirr/);
    expect(msg).toMatch(/Fix: remove or rename/);
  });

  it('a bad URL and a token value in place of an env var name are refused with their paths', () => {
    expect(errorOf(ok.replace('http://10.0.0.5:30000', 'ftp://x'))).toContain('servers.prod-a.url');
    expect(errorOf(ok.replace('PROD_A_TOKEN', 'sk-live-abc'))).toMatch(/servers\.prod-a\.tokenEnv: must be the NAME of an environment variable/);
  });

  it('invalid YAML is a config error, not a crash', () => {
    expect(errorOf('servers: [unclosed')).toMatch(/not valid YAML/);
  });
});
