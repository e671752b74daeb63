import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { TriageError, throwIfAborted } from '../errors.js';
import { HEAD_BYTES, listFiles, readHead } from './files.js';
import { Evidence, type EvidenceItem, type EvidenceKind, type EvidenceKinds, type Recognizer, type SniffedFile } from './types.js';

/** A recognizer for a whole folder (a capture bundle is a folder of endpoint files). */
export interface FolderRecognizer<K extends EvidenceKind = EvidenceKind> {
  kind: K;
  /** Given the names in a folder, is it this kind? */
  matches(names: string[]): boolean;
  read(dir: string, rel: string, signal: AbortSignal): Promise<EvidenceKinds[K] | null>;
  /** File names inside a matched folder that the folder reader consumed (file recognizers skip them). */
  consumes(names: string[]): string[];
  describe(data: EvidenceKinds[K]): string;
}

export interface ScanOptions {
  recognizers: readonly Recognizer[];
  folderRecognizers: readonly FolderRecognizer[];
  signal: AbortSignal;
  /** Files we never open (our own outputs). */
  ignore?: (rel: string) => boolean;
}

const OWN_OUTPUTS = new Set(['report.json', 'report.md', 'incident.json']);

/** Walks a folder and turns every file it recognises, by content, into typed evidence. */
export async function scanFolder(root: string, options: ScanOptions): Promise<Evidence> {
  const abs = path.resolve(root);
  const info = await stat(abs).catch((err: unknown) => {
    throw new TriageError('E_NOT_FOUND', `no such folder: ${root}`, { cause: err });
  });
  if (!info.isDirectory()) throw new TriageError('E_NOT_FOUND', `${root} is not a folder`);

  const items: EvidenceItem[] = [];
  const checked: string[] = [];
  const consumed = new Set<string>();
  for (const dir of [abs, ...(await listDirs(abs))]) {
    throwIfAborted(options.signal, 'scan');
    const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
    for (const folder of options.folderRecognizers) {
      if (!folder.matches(names)) continue;
      const rel = toRel(abs, dir) || '.';
      const data = await folder.read(dir, rel, options.signal);
      if (data === null) continue;
      items.push({ kind: folder.kind, file: rel, data } as EvidenceItem);
      checked.push(`${rel}/: ${(folder.describe as (d: unknown) => string)(data)}`);
      for (const name of folder.consumes(names)) consumed.add(path.join(dir, name));
    }
  }

  const unrecognised: string[] = [];
  for (const file of await listFiles(abs)) {
    throwIfAborted(options.signal, 'scan');
    const rel = toRel(abs, file);
    if (consumed.has(file) || OWN_OUTPUTS.has(rel) || options.ignore?.(rel)) continue;
    const size = (await stat(file)).size;
    const head = (await readHead(file, HEAD_BYTES)).toString('latin1');
    const sniffed: SniffedFile = { path: file, rel, size, head };
    let matched = false;
    for (const recognizer of options.recognizers) {
      if (!recognizer.sniff(sniffed)) continue;
      const data = await recognizer.read(sniffed, options.signal);
      if (data === null) continue;
      items.push({ kind: recognizer.kind, file: rel, data } as EvidenceItem);
      checked.push(`${rel}: ${(recognizer.describe as (d: unknown) => string)(data)}`);
      matched = true;
    }
    if (!matched) unrecognised.push(rel);
  }
  return new Evidence(items, unrecognised, checked);
}

async function listDirs(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > 8) return;
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (!e.isDirectory()) continue;
      const full = path.join(dir, e.name);
      out.push(full);
      await walk(full, depth + 1);
    }
  };
  await walk(root, 0);
  return out;
}

function toRel(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}
