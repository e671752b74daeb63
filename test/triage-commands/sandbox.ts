/**
 * A folder whose PATH holds only stub binaries that record their argv (NUL-separated) and exported env,
 * then exit 0. `run(line)` runs one printed command with `/bin/sh -c` there. Nothing else is reachable:
 * a payload that escaped its quotes can only call a stub, and the `pwned` stub is the marker.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const STUBS = [
  'curl', 'cp', 'ls', 'mkdir', 'ln', 'rm', 'mktemp', 'head', 'tail', 'grep', 'dmesg', 'sleep', 'timeout', 'py-spy', 'cuda-gdb',
  'compute-sanitizer', 'nvidia-smi', 'pgrep', 'hostname', 'triage', 'npx', 'node', 'python', 'python3', 'sh', 'bash', 'env', 'cat', 'touch', 'git', 'jq', 'diff', 'pwned',
] as const;

export interface Call {
  tool: string;
  argv: string[];
  env: Record<string, string>;
}

export interface Sandbox {
  root: string;
  bin: string;
  /** Where `mktemp -d` points. */
  tmpd: string;
  run(line: string, env?: Record<string, string>): { status: number | null; calls: Call[]; stderr: string };
  cleanup(): Promise<void>;
}

const STUB = (name: string) => `#!/bin/sh
f="$STUB_LOG/call.$$.${name}"
{ printf '%s\\0' "\${0##*/}"; for a in "$@"; do printf '%s\\0' "$a"; done; } > "$f.argv"
export -p > "$f.env"
${name === 'pgrep' ? 'echo 4242' : ''}${name === 'mktemp' ? 'echo "$STUB_TMPD"' : ''}
exit 0
`;

export async function makeSandbox(): Promise<Sandbox> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'triage-cmd-sandbox-'));
  const bin = path.join(root, 'bin');
  const log = path.join(root, 'log');
  const tmpd = path.join(root, 'tmpd');
  await mkdir(bin);
  await mkdir(log);
  await mkdir(tmpd);
  for (const name of STUBS) {
    await writeFile(path.join(bin, name), STUB(name));
    await chmod(path.join(bin, name), 0o755);
  }
  let seq = 0;
  return {
    root,
    bin,
    tmpd,
    run(line, env = {}) {
      const runLog = path.join(log, String(seq++));
      spawnSync('/bin/mkdir', [runLog]);
      const r = spawnSync('/bin/sh', ['-c', line], {
        cwd: root,
        env: { PATH: bin, HOME: root, STUB_LOG: runLog, STUB_TMPD: tmpd, LC_ALL: 'C', ...env },
        encoding: 'utf8',
        timeout: 10_000,
      });
      return { status: r.status, calls: readCalls(runLog), stderr: r.stderr };
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

function readCalls(dir: string): Call[] {
  // Synchronous on purpose: one command at a time, read right after it ends.
  const calls: Call[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.argv')).sort()) {
    const parts = readFileSync(path.join(dir, name), 'utf8').split('\0');
    parts.pop();
    const envText = readFileSync(path.join(dir, name.replace(/\.argv$/, '.env')), 'utf8');
    calls.push({ tool: parts[0]!, argv: parts.slice(1), env: parseExportP(envText) });
  }
  return calls;
}

/** dash/bash `export -p`: lines `export NAME='value'` (dash) or `declare -x NAME="value"` (bash). */
function parseExportP(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of text.matchAll(/^(?:export|declare -x) ([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/gm)) env[m[1]!] = m[2] ?? '';
  return env;
}

export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}
