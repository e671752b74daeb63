/**
 * deploy/: the systemd units start what package.json's bot/worker scripts start, and a real
 * redis-server started with deploy/redis/triage.conf has AOF on and noeviction.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/redis-test.js';
import { REPO_ROOT, withTempDir } from '../helpers/tmp.js';

/** [Section] key=value, repeated keys kept in order (systemd allows several Environment= lines). */
function unit(file: string): Map<string, string[]> {
  const entries = new Map<string, string[]>();
  let section = '';
  for (const raw of readFileSync(path.join(REPO_ROOT, 'deploy', 'systemd', file), 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    const eq = line.indexOf('=');
    expect(eq, `${file}: "${line}" is not key=value`).toBeGreaterThan(0);
    const key = `${section}.${line.slice(0, eq)}`;
    entries.set(key, [...(entries.get(key) ?? []), line.slice(eq + 1)]);
  }
  return entries;
}

const scripts = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

describe('systemd units', () => {
  it.each([
    ['triage-bot.service', 'bot'],
    ['triage-worker@.service', 'worker'],
  ])('%s runs the same entry as `npm run %s`, from the source the build compiles', (file, script) => {
    const u = unit(file);
    const exec = u.get('Service.ExecStart')![0]!;
    const entry = exec.split(/\s+/)[1]!;
    expect(scripts[script]).toBe(`node ${entry}`);
    const source = entry.replace(/^dist\//, '').replace(/\.js$/, '.ts');
    expect(existsSync(path.join(REPO_ROOT, source)), source).toBe(true);
    expect(u.get('Service.EnvironmentFile')).toHaveLength(1);
    expect(u.get('Install.WantedBy')).toEqual(['multi-user.target']);
  });

  it('the worker is an instance per host, drains for less than systemd waits, and signals only itself first', () => {
    const u = unit('triage-worker@.service');
    expect(u.get('Service.Environment')).toContain('TRIAGE_HOST=%i');
    expect(u.get('Service.KillMode')).toEqual(['mixed']);
    const header = readFileSync(path.join(REPO_ROOT, 'deploy', 'systemd', 'triage-worker@.service'), 'utf8');
    const grace = Number(/TRIAGE_SHUTDOWN_GRACE_S=(\d+)/.exec(header)![1]);
    expect(Number(u.get('Service.TimeoutStopSec')![0])).toBeGreaterThan(grace);
  });
});

describe('deploy/redis/triage.conf', () => {
  it('a real redis-server started with it has AOF on, fsync always and noeviction', async () => {
    await withTempDir(async (dir) => {
      const port = await freePort();
      const conf = path.join(REPO_ROOT, 'deploy', 'redis', 'triage.conf');
      const child = spawn('redis-server', [conf, '--port', String(port), '--dir', dir], { stdio: 'ignore' });
      let redis: Redis | undefined;
      try {
        const deadline = Date.now() + 10_000;
        while (!redis) {
          const attempt = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
          attempt.on('error', () => undefined);
          try {
            await attempt.connect();
            redis = attempt;
          } catch (err) {
            attempt.disconnect();
            if (Date.now() > deadline) throw err;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
        expect(await redis.config('GET', 'appendfsync')).toEqual(['appendfsync', 'always']);
        expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      } finally {
        redis?.disconnect();
        child.kill('SIGKILL');
      }
    });
  });
});
