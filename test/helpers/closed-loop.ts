/**
 * Shared by the closed-loop tests: a real SGLang emulator process started by the pipeline from the
 * registry's `replay.launch`, CPython-written dumps, and checks that nothing the pipeline started is left.
 */
import { execFileSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { parseRegistry } from '../../src/config/servers.js';
import type { PipelineDeps } from '../../src/pipelines/types.js';
import { REPO_ROOT } from './tmp.js';

export const FAKE_BIN = path.join(REPO_ROOT, 'test', 'fakes', 'bin');
const WRITE_DUMP = path.join(REPO_ROOT, 'test', 'helpers', 'emulator', 'write_dump.py');
const EMULATOR = path.join(REPO_ROOT, 'test', 'helpers', 'sglang-emulator.ts');
const TSX = import.meta.resolve('tsx');

export const silentLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** A free loopback port (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The shell line a registry's `replay.launch` holds to start the emulator as a clean target. */
export function emulatorLaunch(port: number, flags: string): string {
  return `exec ${process.execPath} --import ${TSX} ${EMULATOR} --port ${port} --model-path Qwen/Qwen3-8B ${flags}`;
}

export interface DumpRequest {
  rid: string;
  text: string;
  output: string | null;
  created: number;
  finished: number;
  max_new_tokens?: number;
  temperature?: number;
}

/** A crash or request dump written by CPython's own pickle (test/helpers/emulator/write_dump.py). */
export function writeDump(out: string, kind: 'crash' | 'request', requests: DumpRequest[], tp = 2): void {
  execFileSync('python3', [WRITE_DUMP], { input: JSON.stringify({ out, kind, tp, requests }) });
}

/** The case studies' shape: two warm-up requests that finished, then the 769-token trigger that did not. */
export function triggerRequests(now = Date.now() / 1000): DumpRequest[] {
  return [
    { rid: 'warm-1', text: 'hi there', output: 'hello!', created: now - 60, finished: now - 59.6 },
    { rid: 'warm-2', text: 'short one', output: 'ok', created: now - 59.8, finished: now - 59.5 },
    { rid: 'trigger-769', text: 'hello '.repeat(768).trim(), output: null, created: now - 59.6, finished: now - 58 },
  ];
}

export function registryYaml(o: { prodUrl: string; targetPort: number; launch: string; crashDumpDir?: string; requestDumpDir?: string; extra?: string }): string {
  return [
    'servers:',
    '  prod-a:',
    `    url: ${o.prodUrl}`,
    '    host: gpu-1',
    ...(o.crashDumpDir ? [`    crashDumpDir: ${o.crashDumpDir}`] : []),
    ...(o.requestDumpDir ? [`    requestDumpDir: ${o.requestDumpDir}`] : []),
    ...(o.extra ? [o.extra] : []),
    '    replay:',
    `      url: http://127.0.0.1:${o.targetPort}`,
    `      launch: "${o.launch.replace(/"/g, '\\"')}"`,
    '      managed: true',
    '      readyTimeoutS: 60',
    '      stopGraceS: 2',
    '',
  ].join('\n');
}

export function pipelineDeps(yaml: string, extraEnv: Record<string, string> = {}): PipelineDeps {
  return {
    registry: parseRegistry(yaml, 'servers.yaml'),
    env: {},
    toolEnv: { ...process.env, PATH: `${FAKE_BIN}:${process.env.PATH}`, SGLANG_HEALTH_CHECK_TIMEOUT: '1', ...extraEnv },
    now: () => new Date(),
    logger: silentLogger,
  };
}

/** Processes whose command line mentions `needle` (the incident folder or the emulator's port). */
export async function processesMentioning(needle: string): Promise<string[]> {
  const out: string[] = [];
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const { readFile } = await import('node:fs/promises');
      const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue; // a zombie is already dead
      if (cmd.includes(needle)) out.push(`${pid}: ${cmd.slice(0, 160)}`);
    } catch {
      // gone
    }
  }
  return out;
}

export async function portAnswers(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
