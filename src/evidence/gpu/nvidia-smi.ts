import { splitLogLines } from './log-envelope.js';
import type { Recognizer } from '../types.js';
import { looksLikeText, readEvidenceText } from './text.js';

/**
 * nvidia-smi snapshots: the plain table and `--query-gpu=… / --query-compute-apps=… --format=csv`
 * (several CSV sections may follow each other in one file). Utilisation asymmetry — some in-use GPUs
 * near 100 % while their peers idle — is the GPU-side picture of a collective hang: the ranks stuck in
 * an NCCL kernel spin, the rank that skipped the collective does nothing.
 */
export interface GpuRow {
  index?: number;
  uuid?: string;
  busId?: string;
  name?: string;
  utilPct?: number;
  memUsedMiB?: number;
  memTotalMiB?: number;
}

export interface GpuProcessRow {
  pid: number;
  gpuIndex?: number;
  gpuUuid?: string;
  name?: string;
  usedMiB?: number;
}

export interface NvidiaSmiSnapshot {
  format: 'table' | 'csv';
  gpus: GpuRow[];
  processes: GpuProcessRow[];
  driver?: string;
  cuda?: string;
}

export interface UtilAsymmetry {
  busy: number[];
  idle: number[];
  /** index → utilisation %, for the report. */
  util: Record<number, number>;
}

export interface NvidiaSmiEvidence {
  snapshots: NvidiaSmiSnapshot[];
  /** Asymmetry in the last snapshot that shows it, if any. */
  asymmetry?: UtilAsymmetry;
}

declare module '../types.js' {
  interface EvidenceKinds {
    'nvidia-smi': NvidiaSmiEvidence;
  }
}

const num = (s: string | undefined): number | undefined => {
  if (s === undefined) return undefined;
  const m = /-?\d+(?:\.\d+)?/.exec(s);
  return m && !/N\/A|Not Supported/i.test(s) ? Number(m[0]) : undefined;
};

/** Pure. */
export function parseNvidiaSmi(text: string): NvidiaSmiEvidence {
  const snapshots = [...parseTables(text), ...parseCsv(text)];
  // CSV sections of one capture (GPUs then apps) describe the same moment: merge apps into GPU rows' snapshot.
  const out: NvidiaSmiEvidence = { snapshots };
  for (const s of [...snapshots].reverse()) {
    const a = utilAsymmetry(s);
    if (a) {
      out.asymmetry = a;
      break;
    }
  }
  return out;
}

function parseTables(text: string): NvidiaSmiSnapshot[] {
  const out: NvidiaSmiSnapshot[] = [];
  let snap: NvidiaSmiSnapshot | null = null;
  let pendingGpu: GpuRow | null = null;
  let inProcesses = false;
  for (const line of splitLogLines(text)) {
    const header = /NVIDIA-SMI (\S+)\s+Driver Version: (\S+)\s+CUDA Version: (\S+)/.exec(line);
    if (header) {
      snap = { format: 'table', gpus: [], processes: [], driver: header[2]!, cuda: header[3]! };
      out.push(snap);
      inProcesses = false;
      continue;
    }
    if (!snap) continue;
    if (/\|\s*Processes:/.test(line)) {
      inProcesses = true;
      continue;
    }
    if (!inProcesses) {
      const first = /^\|\s+(\d+)\s+(.+?)\s+(On|Off)\s+\|\s+([0-9A-Fa-f:.]+)\s+(On|Off)\s+\|/.exec(line);
      if (first?.[1]) {
        pendingGpu = { index: Number(first[1]), name: first[2]!.trim(), busId: first[4]! };
        snap.gpus.push(pendingGpu);
        continue;
      }
      const second = /(\d+)MiB\s*\/\s*(\d+)MiB\s*\|\s*(\d+|N\/A)%?/.exec(line);
      if (second && pendingGpu) {
        pendingGpu.memUsedMiB = Number(second[1]);
        pendingGpu.memTotalMiB = Number(second[2]);
        const util = num(second[3]);
        if (util !== undefined) pendingGpu.utilPct = util;
        pendingGpu = null;
      }
      continue;
    }
    const proc = /^\|\s+(\d+)\s+(?:\S+\s+\S+\s+)?(\d+)\s+([CGM+]+)\s+(.+?)\s+(\d+)MiB\s*\|/.exec(line);
    if (proc?.[1] && proc[2]) {
      snap.processes.push({ gpuIndex: Number(proc[1]), pid: Number(proc[2]), name: proc[4]!.trim(), usedMiB: Number(proc[5]) });
    }
  }
  return out;
}

function normaliseField(h: string): string {
  // `utilization.gpu [%]` → `utilization.gpu`; by indexOf (an unanchored `\[.*\]$` is quadratic on a run of `[`).
  const t = h.trim();
  const open = t.indexOf('[');
  return (open >= 0 && t.endsWith(']') ? t.slice(0, open).trimEnd() : t).toLowerCase();
}

function parseCsv(text: string): NvidiaSmiSnapshot[] {
  const out: NvidiaSmiSnapshot[] = [];
  let fields: string[] | null = null;
  let gpuSnap: NvidiaSmiSnapshot | null = null;
  for (const line of splitLogLines(text)) {
    if (!line.includes(',')) {
      fields = null;
      continue;
    }
    const cells = line.split(',', 256).map((c) => c.trim()); // nvidia-smi prints a few dozen columns at most
    const names = cells.map(normaliseField);
    if (names.some((n) => /^(index|pid|uuid|gpu_uuid|utilization\.gpu|memory\.used|name|pci\.bus_id)$/.test(n)) && !cells.some((c) => /^\d+$/.test(c))) {
      fields = names;
      if (names.includes('pid')) {
        // compute-apps section: attach to the GPU section just above (same capture), else its own snapshot.
        if (!gpuSnap) {
          gpuSnap = { format: 'csv', gpus: [], processes: [] };
          out.push(gpuSnap);
        }
      } else {
        gpuSnap = { format: 'csv', gpus: [], processes: [] };
        out.push(gpuSnap);
      }
      continue;
    }
    if (!fields || !gpuSnap) continue;
    const get = (name: string): string | undefined => {
      const k = fields!.indexOf(name);
      return k >= 0 ? cells[k] : undefined;
    };
    if (fields.includes('pid')) {
      const pid = num(get('pid'));
      if (pid === undefined) continue;
      const row: GpuProcessRow = { pid };
      const uuid = get('gpu_uuid');
      if (uuid) row.gpuUuid = uuid;
      const used = num(get('used_memory') ?? get('used_gpu_memory'));
      if (used !== undefined) row.usedMiB = used;
      const name = get('process_name') ?? get('name');
      if (name) row.name = name;
      const gpu = gpuSnap.gpus.find((g) => g.uuid && g.uuid === uuid);
      if (gpu?.index !== undefined) row.gpuIndex = gpu.index;
      gpuSnap.processes.push(row);
    } else {
      const row: GpuRow = {};
      const assign = <K extends keyof GpuRow>(k: K, v: GpuRow[K] | undefined): void => {
        if (v !== undefined) row[k] = v;
      };
      assign('index', num(get('index')));
      assign('uuid', get('uuid'));
      assign('name', get('name'));
      assign('busId', get('pci.bus_id'));
      assign('utilPct', num(get('utilization.gpu')));
      assign('memUsedMiB', num(get('memory.used')));
      assign('memTotalMiB', num(get('memory.total')));
      if (Object.keys(row).length) gpuSnap.gpus.push(row);
    }
  }
  return out.filter((s) => s.gpus.length || s.processes.length);
}

const BUSY_PCT = 90;
const IDLE_PCT = 10;
/** A GPU holding this much memory (or a process) is in use by the server, so its idleness means something. */
const IN_USE_MIB = 256;

export function utilAsymmetry(s: NvidiaSmiSnapshot): UtilAsymmetry | null {
  const inUse = s.gpus.filter(
    (g) => g.index !== undefined && g.utilPct !== undefined && ((g.memUsedMiB ?? 0) >= IN_USE_MIB || s.processes.some((p) => p.gpuIndex === g.index)),
  );
  if (inUse.length < 2) return null;
  const busy = inUse.filter((g) => g.utilPct! >= BUSY_PCT).map((g) => g.index!);
  const idle = inUse.filter((g) => g.utilPct! <= IDLE_PCT).map((g) => g.index!);
  if (!busy.length || !idle.length) return null;
  const util: Record<number, number> = {};
  for (const g of inUse) util[g.index!] = g.utilPct!;
  return { busy, idle, util };
}

export function describeNvidiaSmi(e: NvidiaSmiEvidence): string {
  const last = e.snapshots[e.snapshots.length - 1];
  const gpus = last?.gpus.map((g) => `GPU${g.index ?? '?'} ${g.utilPct ?? '?'}%/${g.memUsedMiB ?? '?'}MiB`).join(', ') ?? '';
  const asym = e.asymmetry ? `; utilisation asymmetry: GPU ${e.asymmetry.busy.join(',')} busy, GPU ${e.asymmetry.idle.join(',')} idle` : '';
  return `nvidia-smi (${e.snapshots.map((s) => s.format).join('+')}): ${gpus}${last?.processes.length ? `; ${last.processes.length} process(es)` : ''}${asym}`;
}

export const nvidiaSmiRecognizer: Recognizer<'nvidia-smi'> = {
  kind: 'nvidia-smi',
  sniff: (file) =>
    looksLikeText(file) && (/NVIDIA-SMI \S+\s+Driver Version:/.test(file.head) || /^(index|pid|name|uuid|pci\.bus_id|timestamp)\s*,.*(utilization\.gpu|memory\.used|used_memory|used_gpu_memory|gpu_uuid)/m.test(file.head)),
  async read(file, signal) {
    const parsed = parseNvidiaSmi(await readEvidenceText(file, signal));
    return parsed.snapshots.length ? parsed : null;
  },
  describe: describeNvidiaSmi,
};
