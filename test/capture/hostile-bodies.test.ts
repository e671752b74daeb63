import { readFile, readdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gzipSync, deflateSync, deflateRawSync, brotliCompressSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { captureStep } from '../../src/pipelines/capture-step.js';
import { withTempDir } from '../helpers/tmp.js';

/** A real HTTP server: `routes` answers by path, everything else a healthy SGLang-shaped empty 200. */
type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server | undefined;
async function serve(routes: Record<string, Handler>): Promise<string> {
  server = createServer((req, res) => {
    const p = (req.url ?? '/').split('?')[0]!;
    const h = routes[p];
    if (h) return h(req, res);
    res.writeHead(p.startsWith('/health') || p === '/metrics' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(p.startsWith('/health') || p === '/metrics' ? '' : '{"detail":"Not Found"}');
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

const json = (body: string | Buffer, headers: Record<string, string> = {}): Handler => (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', ...headers });
  res.end(body);
};

const cap = (url: string, dir: string, extra: { maxBodyBytes?: number } = {}) =>
  captureStep({ baseUrl: url, outDir: dir, role: 'live', signal: new AbortController().signal, now: () => new Date(), timeoutS: 4, ...extra });
const outcome = (r: Awaited<ReturnType<typeof cap>>, file: string) => r.capture.endpoints.find((e) => e.spec.file === file)!.outcome;

describe('hostile bodies are bounded, one endpoint at a time', () => {
  it('24 MB of {} objects from /server_info: a bad-body file, within the deadline, without gigabytes', async () => {
    const body = `[${Array.from({ length: 8_000_000 }, () => '{}').join(',')}]`; // ~24 MB
    const url = await serve({ '/server_info': json(body), '/model_info': json('{"model_path": "m"}') });
    await withTempDir(async (dir) => {
      const before = process.memoryUsage().rss;
      const started = performance.now();
      const r = await cap(url, dir);
      const elapsedMs = performance.now() - started;
      const grewMb = (process.memoryUsage().rss - before) / 2 ** 20;
      expect(outcome(r, 'server_info.json')).toMatchObject({ kind: 'bad-body' });
      const record = JSON.parse(await readFile(path.join(dir, 'server_info.json'), 'utf8'));
      expect(record).toMatchObject({ ok: false, path: '/server_info', outcome: 'bad-body' });
      expect(record.error).toMatch(/more than 250000 JSON values/);
      expect(outcome(r, 'model_info.json').kind).toBe('ok');
      // Bounded by the 4 s timeout plus writing, not by parsing 8 M objects (18.5 s and 2.6 GB before).
      expect(elapsedMs).toBeLessThan(r.capture.deadlineMs + 3000);
      expect(grewMb).toBeLessThan(800);
    });
  });

  it('60 MB of [{},…] from one endpoint is one error file; the capture and the other files stand', async () => {
    const body = `[${'{},'.repeat(20_000_000)}{}]`; // ~60 MB, 20 M objects (past a Map's 16.7 M entries)
    const url = await serve({ '/v1/loads': json(body), '/model_info': json('{"model_path": "m"}'), '/server_info': json('{"tp_size": 1}') });
    await withTempDir(async (dir) => {
      const r = await cap(url, dir);
      expect(outcome(r, 'loads_all.json')).toMatchObject({ kind: 'bad-body' });
      const files = await readdir(dir);
      expect(files).toEqual(expect.arrayContaining(['loads_all.json', 'server_info.json', 'model_info.json', 'metadata.json', 'SUMMARY.txt']));
      expect(JSON.parse(await readFile(path.join(dir, 'server_info.json'), 'utf8'))).toMatchObject({ ok: true, json: { tp_size: 1 } });
    });
  });

  it('gzip, deflate (zlib and raw) and brotli bodies are decoded before they are read', async () => {
    const info = JSON.stringify({ model_path: 'Qwen/Qwen3-8B', tp_size: 2, api_key: 'sk-live-SECRET-0123456789abcd' });
    const url = await serve({
      '/server_info': json(gzipSync(info), { 'content-encoding': 'gzip' }),
      '/model_info': json(deflateSync('{"model_path": "Qwen/Qwen3-8B", "model_type": "qwen3"}'), { 'content-encoding': 'deflate' }),
      '/v1/loads': json(deflateRawSync('{"loads": [{"dp_rank": 0, "num_running_reqs": 2, "num_waiting_reqs": 0}]}'), { 'content-encoding': 'deflate' }),
      '/metrics': (_q, res) => {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'br' });
        res.end(brotliCompressSync('sglang:num_requests_total{model_name="m"} 7.0\n'));
      },
    });
    await withTempDir(async (dir) => {
      const r = await cap(url, dir);
      expect(r.summary.topology.tp_size).toBe(2);
      expect(r.summary.model.model_type).toBe('qwen3');
      expect(r.summary.point_in_time_load.running_reqs).toBe(2);
      expect(r.summary.metrics.request_count).toBe(7);
      expect(await readFile(path.join(dir, 'server_info.json'), 'utf8')).not.toContain('SECRET');
    });
  });

  it('/health with a body that does not decode (or an unknown encoding) is a bad body, not ok', async () => {
    const url = await serve({
      '/health': (_q, res) => {
        res.writeHead(200, { 'content-encoding': 'gzip' });
        res.end('this is not gzip');
      },
      '/health_generate': (_q, res) => {
        res.writeHead(200, { 'content-encoding': 'zstd' });
        res.end('x');
      },
    });
    await withTempDir(async (dir) => {
      const r = await cap(url, dir);
      expect(outcome(r, 'health.txt')).toMatchObject({ kind: 'bad-body' });
      expect(outcome(r, 'health_generate.txt')).toMatchObject({ kind: 'bad-body' });
      expect(r.summary.health.health_ok).toBe(false);
      const err = JSON.parse(await readFile(path.join(dir, 'health.txt.error.json'), 'utf8'));
      expect(err.error).toMatch(/gzip body could not be decoded/);
      const err2 = JSON.parse(await readFile(path.join(dir, 'health_generate.txt.error.json'), 'utf8'));
      expect(err2.error).toMatch(/unsupported content-encoding "zstd"/);
    });
  });

  it('a gzip bomb is cut off at the byte budget after decoding', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x61)); // 64 MiB of "a" in ~64 KB
    const url = await serve({ '/metrics': (_q, res) => { res.writeHead(200, { 'content-encoding': 'gzip' }); res.end(bomb); } });
    await withTempDir(async (dir) => {
      const r = await cap(url, dir, { maxBodyBytes: 4 * 1024 * 1024 });
      expect(bomb.length).toBeLessThan(4 * 1024 * 1024);
      expect(outcome(r, 'metrics.txt')).toMatchObject({ kind: 'too-large', limitBytes: 4 * 1024 * 1024 });
    });
  });
});

describe('capture --out replaces links, never follows them', () => {
  it('symlinked metadata.json, SUMMARY.txt, summary.json and health.txt in the out folder: the link targets stay untouched', async () => {
    const { mkdir, symlink, writeFile, lstat } = await import('node:fs/promises');
    const url = await serve({ '/model_info': json('{"model_path": "m"}') });
    await withTempDir(async (dir) => {
      const out = path.join(dir, 'out');
      await mkdir(out);
      const names = ['metadata.json', 'SUMMARY.txt', 'summary.json', 'health.txt'];
      for (const n of names) {
        await writeFile(path.join(dir, `victim-${n}`), 'precious');
        await symlink(path.join(dir, `victim-${n}`), path.join(out, n));
      }
      await cap(url, out);
      for (const n of names) {
        expect(await readFile(path.join(dir, `victim-${n}`), 'utf8'), n).toBe('precious');
        expect((await lstat(path.join(out, n))).isSymbolicLink(), n).toBe(false);
      }
      expect(JSON.parse(await readFile(path.join(out, 'metadata.json'), 'utf8')).artifact_type).toBe('incident_bundle');
      expect((await readdir(out)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  });
});

describe('SUMMARY.txt shows control characters from the server, never obeys them', () => {
  it('ANSI escapes and a newline in model_path and in an error body stay inside their line', async () => {
    const url = await serve({
      '/server_info': json(JSON.stringify({ model_path: 'Qwen\u001b[2J\u001b[31m\nHealth: /health=ok /health_generate=ok', tp_size: 1 })),
      '/model_info': (_q, res) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error": "boom\\r\\u001b[1Ahealth.txt: ok"}');
      },
    });
    await withTempDir(async (dir) => {
      await cap(url, dir);
      const text = await readFile(path.join(dir, 'SUMMARY.txt'), 'utf8');
      expect(text).not.toMatch(/\u001b|\r/);
      expect(text.split('\n').filter((l) => l.startsWith('Health:'))).toHaveLength(1);
      expect(text).toMatch(/Qwen\\(x1b|u001b)\[2J/);
    });
  });
});
