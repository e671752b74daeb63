/** A dump summary as terminal text: the facts first, unfinished requests (trigger candidates) next. */
import path from 'node:path';
import type { DumpSummary, RequestSummary } from './model.js';

const FINISHED_SHOWN = 10;
const UNFINISHED_SHOWN = 50;

export function renderDumpSummary(summary: DumpSummary, options: { cwd?: string } = {}): string {
  const rel = (file: string) => {
    const relative = options.cwd ? path.relative(options.cwd, file) : '';
    return relative && !relative.startsWith('..') ? relative : file;
  };
  const lines: string[] = [];
  const kindLabel = summary.kind === 'crash' ? 'crash dump' : summary.kind === 'request' ? 'request dump' : summary.kind === 'bare-list' ? 'request dump (bare list)' : 'dumps';
  for (const f of summary.files) {
    const what = f.error ? `unreadable: ${f.error}` : `${f.kind ?? '?'} dump, protocol ${f.protocol}, ${formatBytes(f.bytes)}, ${f.requests} requests`;
    lines.push(`${kindLabel === 'dumps' ? 'file' : kindLabel}: ${rel(f.file)} (${what})`);
  }
  const row = (label: string, value: string | null) => lines.push(`  ${label.padEnd(11)} ${value ?? 'unknown'}`);
  row('model', summary.model && summary.modelPath && summary.model !== summary.modelPath ? `${summary.model} (${summary.modelPath})` : summary.model);
  const t = summary.topology;
  row('topology', t.tp === null && t.dp === null ? null : `tp=${t.tp ?? '?'} dp=${t.dp ?? '?'} pp=${t.pp ?? '?'} ep=${t.ep ?? '?'}`);
  row('endpoint', summary.endpoint);
  row('time span', summary.timeSpan.start ? `${summary.timeSpan.start} → ${summary.timeSpan.end} (${summary.timeSpan.seconds} s)` : null);
  if (summary.launchCommand !== null) row('launch', summary.launchCommand);
  const c = summary.counts;
  row('requests', `${c.requests}: ${c.finished} finished, ${c.unfinished} unfinished, ${c.streaming} streaming, ${c.batch} batch`);

  const base = summary.requests.find((r) => r.createdAt !== null)?.createdAt ?? null;
  const unfinished = summary.requests.filter((r) => r.unfinished);
  if (unfinished.length) {
    lines.push('', 'Unfinished requests: the strongest trigger candidates (in flight when the dump was written), newest first:');
    for (const r of [...unfinished].reverse().slice(0, UNFINISHED_SHOWN)) lines.push(requestLine(r, base));
    if (unfinished.length > UNFINISHED_SHOWN) lines.push(`  … ${unfinished.length - UNFINISHED_SHOWN} more in --json`);
  }
  const finished = summary.requests.filter((r) => !r.unfinished);
  if (finished.length) {
    const shown = finished.slice(-FINISHED_SHOWN);
    lines.push('', `Finished requests (${shown.length === finished.length ? 'all' : `last ${shown.length}`} of ${finished.length}):`);
    for (const r of shown) lines.push(requestLine(r, base));
  }
  if (summary.notes.length) {
    lines.push('');
    for (const note of summary.notes) lines.push(`note: ${note}`);
  }
  return lines.join('\n');
}

function requestLine(r: RequestSummary, base: number | null): string {
  const at = r.createdAt !== null && base !== null ? `+${(r.createdAt - base).toFixed(1)}s` : '';
  const took = r.elapsedSeconds === null ? '' : r.unfinished ? `in flight ${r.elapsedSeconds}s` : `took ${r.elapsedSeconds}s`;
  const tokens = `${r.promptTokens ?? '?'}→${r.completionTokens ?? '?'} tok`;
  const finish = r.unfinished ? 'UNFINISHED' : (r.finishReason ?? '');
  const preview = JSON.stringify(r.preview.length > 80 ? `${r.preview.slice(0, 80)}…` : r.preview);
  const parts = [`#${r.index}`, r.rid ?? '(no rid)', at, took, tokens, finish, r.stream ? 'stream' : '', preview];
  return `  ${parts.filter(Boolean).join(' ')}`;
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}
