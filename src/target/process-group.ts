import { readdir, readFile } from 'node:fs/promises';

/**
 * Processes by process group, read from /proc. A managed target runs in a group of its own, so its
 * members (the launcher, the HTTP front end, every rank) are exactly the processes whose pgrp is the
 * group's id: never another server on the host.
 */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  pgrp: number;
  /** argv joined by spaces, as `pgrep -f` matches it (process titles like `sglang::scheduler_TP0` included). */
  cmdline: string;
}

export async function readProcess(pid: number): Promise<ProcessInfo | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The comm field may hold spaces and parentheses: the fields we need follow its last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean).join(' ');
    return { pid, ppid: Number(rest[1]), pgrp: Number(rest[2]), cmdline };
  } catch {
    return null; // gone since readdir
  }
}

export async function processesInGroup(pgid: number): Promise<ProcessInfo[]> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const infos = await Promise.all(entries.filter((e) => /^\d+$/.test(e)).map((e) => readProcess(Number(e))));
  return infos.filter((p): p is ProcessInfo => p !== null && p.pgrp === pgid).sort((a, b) => a.pid - b.pid);
}

export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGTERM the whole group, wait up to `graceMs` for every member to exit, then SIGKILL. Resolves once
 * no member is left (or the kill was sent and `killWaitMs` passed).
 */
export async function stopGroup(pgid: number, opts: { graceMs: number; killWaitMs?: number; pollMs?: number }): Promise<'exited' | 'killed' | 'gone'> {
  if (!groupAlive(pgid)) return 'gone';
  signalGroup(pgid, 'SIGTERM');
  const poll = opts.pollMs ?? 100;
  if (await waitUntil(() => !groupAlive(pgid), opts.graceMs, poll)) return 'exited';
  signalGroup(pgid, 'SIGKILL');
  await waitUntil(() => !groupAlive(pgid), opts.killWaitMs ?? 5000, poll);
  return 'killed';
}

async function waitUntil(done: () => boolean, ms: number, poll: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (done()) return true;
    await new Promise((r) => setTimeout(r, poll));
  }
  return done();
}
