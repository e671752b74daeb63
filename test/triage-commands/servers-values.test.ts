/** servers.yaml values that reach printed commands are refused at load time, with a dot-path error. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectInvocation } from '../../src/config/invocation.js';
import { gpuHosts, parseRegistry, requireHost } from '../../src/config/servers.js';
import { isTriageError } from '../../src/errors.js';
import { makeSandbox } from './sandbox.js';

function registry(server: Record<string, unknown>): string {
  return JSON.stringify({ servers: { 'prod-a': { url: 'http://10.0.0.5:30000', ...server } } });
}

function errorOf(text: string): string {
  try {
    parseRegistry(text, 'servers.yaml');
  } catch (err) {
    expect(isTriageError(err, 'E_CONFIG')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected a config error');
}

describe('registry values that printed commands name', () => {
  it.each([
    ['crashDumpDir', '/data/crash\n$(touch X)'],
    ['requestDumpDir', '/data/req\r'],
    ['logFile', '/var/log/a\x1b[2Jb.log'],
    ['coredumpDir', '/tmp/core\x00'],
    ['logFile', 'relative/server.log'],
  ])('%s %j: refused with its dot-path', (key, value) => {
    const msg = errorOf(registry({ [key]: value }));
    expect(msg).toContain(`servers.prod-a.${key}`);
  });

  it.each([
    ['url', 'http://127.0.0.1:30000/$(touch X)'],
    ['url', 'http://127.0.0.1:30000/`id`'],
    ['url', 'http://127.0.0.1:30000/a b'],
    ['url', 'http://127.0.0.1:30000/\nx'],
    ['url', 'http://user:pw@127.0.0.1:30000'],
  ])('%s %j: refused with its dot-path', (key, value) => {
    expect(errorOf(registry({ [key]: value }))).toContain(`servers.prod-a.${key}`);
  });

  it('replay.url with /$(cmd) (passed the URL check before) and a multi-line replay.launch are refused', () => {
    expect(errorOf(registry({ replay: { url: 'http://127.0.0.1:31000/$(cmd)' } }))).toContain('servers.prod-a.replay.url');
    expect(errorOf(registry({ replay: { url: 'http://127.0.0.1:31000', launch: 'python -m sglang.launch_server\nrm -rf /' } }))).toContain('servers.prod-a.replay.launch');
  });

  it('a scheduler pattern pgrep would read as an option is refused', () => {
    expect(errorOf(registry({ schedulerProcessPattern: '-9' }))).toContain('servers.prod-a.schedulerProcessPattern');
  });

  it('plain values still load', () => {
    const r = parseRegistry(registry({ crashDumpDir: '/data/crash dumps', logFile: '/var/log/sglang.log', replay: { url: 'http://127.0.0.1:31000/', launch: "cd /srv && python -m sglang.launch_server --model-path '/m/x y'" } }), 'servers.yaml');
    expect(r.servers['prod-a']!.crashDumpDir).toBe('/data/crash dumps');
  });
});

describe('host is optional for CLI-only use', () => {
  it('a server without host loads; the bot and worker refuse it by name', () => {
    const r = parseRegistry(registry({}), 'servers.yaml');
    expect(r.servers['prod-a']!.host).toBeUndefined();
    expect(gpuHosts(r)).toEqual([]);
    let err: unknown;
    try {
      requireHost({ ...r.servers['prod-a']!, name: 'prod-a' });
    } catch (e) {
      err = e;
    }
    expect(isTriageError(err, 'E_CONFIG')).toBe(true);
    expect((err as Error).message).toMatch(/server "prod-a" has no host.*servers\.prod-a\.host/);
    expect(requireHost({ ...r.servers['prod-a']!, host: 'gpu-1', name: 'prod-a' })).toBe('gpu-1');
  });
});

describe('detectInvocation', () => {
  it('triage when one is on PATH, else npx --no triage; --servers made absolute', async () => {
    const sb = await makeSandbox();
    const empty = await mkdtemp(path.join(os.tmpdir(), 'triage-nopath-'));
    try {
      expect(detectInvocation({ PATH: sb.bin }, '/work', 'conf/servers.yaml')).toEqual({ triage: ['triage'], serversFile: '/work/conf/servers.yaml' });
      expect(detectInvocation({ PATH: empty }, '/work', undefined)).toEqual({ triage: ['npx', '--no', 'triage'] });
      expect(detectInvocation({}, '/work', undefined)).toEqual({ triage: ['npx', '--no', 'triage'] });
    } finally {
      await sb.cleanup();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
