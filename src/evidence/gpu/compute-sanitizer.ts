import { splitLogLines } from './log-envelope.js';
import type { Recognizer } from '../types.js';
import { bareKernelName } from './kernel-names.js';
import { looksLikeText, readEvidenceText } from './text.js';

/**
 * compute-sanitizer (memcheck, racecheck, synccheck, initcheck) reports. Every tool line starts with
 * the `=========` banner; program output is interleaved between them and is ignored here.
 */
export type SanitizerCategory = 'memory-access' | 'race' | 'sync' | 'uninitialized' | 'leak' | 'hardware' | 'api' | 'other';

export interface SanitizerError {
  /** The first line of the report, e.g. "Invalid __shared__ atomic of size 4 bytes". */
  kind: string;
  category: SanitizerCategory;
  /** `__shared__`, `__global__`, `__local__`. */
  memorySpace?: string;
  accessSize?: number;
  /** Bare kernel name: the outermost device frame when the report has a device call stack, else the `at` function. */
  kernel?: string;
  /** The `__device__` function the access is in, when it is not the kernel (memcheck `Device Frame:` lines). */
  deviceFunction?: string;
  /** `Device Frame:` lines as printed, innermost first. */
  deviceFrames?: string[];
  /** The kernel as printed. */
  kernelRaw?: string;
  /** `+0x230` offset in the kernel. */
  offset?: string;
  location?: string;
  thread?: string;
  block?: string;
  address?: string;
  /** "is out of bounds", "is misaligned", "is 4 bytes after the nearest allocation ..." */
  addressNote?: string;
  /** Race: the two accesses (hazard reports: the two threads' accesses), and the hazard type (WAW, RAW, WAR). */
  race?: { first: string; second: string; hazards?: number; hazard?: string };
  /** API errors: `cudaErrorLaunchFailure (error 719) ... on CUDA API call to cudaDeviceSynchronize`. */
  api?: { error: string; call?: string };
  hostFrames: string[];
  /** 1-based line of the report's first line. */
  line: number;
}

export interface SanitizerReport {
  tool: 'memcheck' | 'racecheck' | 'synccheck' | 'initcheck' | 'unknown';
  errors: SanitizerError[];
  /** From "ERROR SUMMARY: 3 errors" / "RACECHECK SUMMARY: ..." */
  summary?: { errors: number; text: string };
  /** No summary line: the run aborted or the file was cut. */
  incomplete: boolean;
  /** `Target application returned an error`: the program under the tool failed (a CUDA call, an abort). */
  targetFailed: boolean;
}

declare module '../types.js' {
  interface EvidenceKinds {
    'compute-sanitizer': SanitizerReport;
  }
}

const BANNER = /^={5,}\s?(.*)$/;

function categorise(kind: string): SanitizerCategory {
  if (/^Invalid |out of bounds|Misaligned|Address .* is out of bounds/i.test(kind)) return 'memory-access';
  if (/Race reported|hazard/i.test(kind)) return 'race';
  if (/Barrier error|Divergent|synccheck|Invalid arguments/i.test(kind)) return 'sync';
  if (/Uninitialized/i.test(kind)) return 'uninitialized';
  if (/Leaked \d+ bytes|Memory leak/i.test(kind)) return 'leak';
  if (/Program hit|CUDA API/i.test(kind)) return 'api';
  if (/Illegal instruction|Hardware|Stack overflow|Lane|Warp|Device-side assert|Assert/i.test(kind)) return 'hardware';
  return 'other';
}

/** Pure. */
export function parseComputeSanitizer(text: string): SanitizerReport {
  const report: SanitizerReport = { tool: 'unknown', errors: [], incomplete: true, targetFailed: false };
  let current: SanitizerError | null = null;
  const lines = splitLogLines(text);
  for (let i = 0; i < lines.length; i++) {
    const m = BANNER.exec(lines[i]!);
    if (!m) continue;
    const body = m[1] ?? '';
    const t = body.trim();
    if (!t) {
      current = null;
      continue;
    }
    const summary = /^(ERROR|RACECHECK|SYNCCHECK|INITCHECK) SUMMARY:\s*(.*)$/.exec(t);
    if (summary?.[2] !== undefined) {
      const n = /(\d+) (?:errors?|hazards?)/.exec(summary[2]);
      report.summary = { errors: n?.[1] ? Number(n[1]) : 0, text: t };
      if (summary[1] === 'RACECHECK') report.tool = 'racecheck';
      report.incomplete = false;
      current = null;
      continue;
    }
    if (t.startsWith('Target application returned an error')) {
      report.targetFailed = true;
      continue;
    }
    if (/^(COMPUTE-SANITIZER|CUDA-MEMCHECK|This tool is deprecated)/.test(t)) continue;
    const indented = /^\s{2,}/.test(body);
    if (!indented) {
      current = startError(t, i + 1);
      if (current) report.errors.push(current);
      continue;
    }
    if (current) addDetail(current, t);
  }
  if (report.tool === 'unknown') {
    if (report.errors.some((e) => e.category === 'race')) report.tool = 'racecheck';
    else if (report.errors.some((e) => e.category === 'sync')) report.tool = 'synccheck';
    else if (report.errors.some((e) => e.category === 'uninitialized')) report.tool = 'initcheck';
    else if (report.errors.length || report.summary) report.tool = 'memcheck';
  }
  return report;
}

function startError(t: string, line: number): SanitizerError | null {
  const kindLine = t.replace(/^(ERROR|Error|WARN|Warning):\s*/, '');
  const error: SanitizerError = { kind: kindLine, category: categorise(kindLine), hostFrames: [], line };
  const access = /^(?:Invalid|Uninitialized) (__\w+__) (\w+(?: \w+)?) of size (\d+) bytes?/.exec(kindLine);
  if (access?.[1] && access[3]) {
    error.memorySpace = access[1];
    error.accessSize = Number(access[3]);
  }
  const race = /Race reported between (.+?) access at (.+)$/.exec(kindLine);
  if (race?.[1] && race[2]) {
    error.category = 'race';
    error.race = { first: `${race[1]} at ${race[2]}`, second: '' };
    setKernel(error, race[2]);
  }
  // `--racecheck-report hazard`: `Potential WAW hazard detected at __shared__ 0x0 in block (0,0,0) :`, the two accesses follow.
  const hazard = /^Potential (\w{1,8}) hazard detected/.exec(kindLine);
  if (hazard?.[1]) {
    error.category = 'race';
    error.race = { first: '', second: '', hazard: hazard[1] };
  }
  const api = /^Program hit (\S+)(?: \(error \d+\))?(?: due to "([^"]*)")?(?: on CUDA API call to (\w+))?/.exec(kindLine);
  if (api?.[1]) {
    error.category = 'api';
    error.api = { error: api[2] ? `${api[1]}: ${api[2]}` : api[1] };
    if (api[3]) error.api.call = api[3];
  }
  if (/^Saved host backtrace|^Host Frame/.test(kindLine)) return null;
  return error;
}

/** `at void k<int>(const T1 *, int *, int, int)+0x230 in file.cu:29` or the older `at 0x70 in file.cu:12:k(int*)`. */
function setKernel(error: SanitizerError, atText: string): void {
  let s = atText.trim();
  const hazards = /\[(\d+) hazards?\]\s*$/.exec(s);
  if (hazards?.[1] && error.race) error.race.hazards = Number(hazards[1]);
  s = s.replace(/\s*\[\d+ hazards?\]\s*$/, '');
  const loc = parseCodeLocation(s);
  if (!loc) return;
  error.kernelRaw = loc.raw;
  if (loc.offset) error.offset = loc.offset;
  if (loc.location) error.location = loc.location;
  if (loc.bare) error.kernel = loc.bare;
}

/** `file.cu:12:fn(int*) (fn(int*) : 0x90)` → `file.cu:12:fn(int*)`: the trailing group is found by hand, not by a backtracking pattern. */
function dropOffsetGroup(s: string): string {
  if (!s.endsWith(')')) return s;
  let depth = 0;
  for (let i = s.length - 1; i >= 0; i--) {
    if (s[i] === ')') depth++;
    else if (s[i] === '(' && --depth === 0) {
      const inner = s.slice(i + 1, -1);
      return s[i - 1] === ' ' && / : 0x[0-9a-fA-F]{1,16}$/.test(inner) ? s.slice(0, i).trimEnd() : s;
    }
  }
  return s;
}

/**
 * One code location as compute-sanitizer prints it, in any of its spellings:
 * `fn(int *)+0x230 in file.cu:29`, `fn(int *)+0x230`, `0x70 in file.cu:12:fn(int*)`, `0x70 in fn(int*)`,
 * `file.cu:12:fn(int*) (fn(int*) : 0x90)`. Scanned with bounded, anchored patterns.
 */
function parseCodeLocation(text: string): { raw: string; offset?: string; location?: string; bare?: string } | null {
  let s = dropOffsetGroup(text.trim());
  let location: string | undefined;
  const inFile = / in (\S{1,1000})$/.exec(s);
  let offset: string | undefined;
  const legacy = /^(0x[0-9a-fA-F]{1,16}) in /.exec(s);
  if (legacy?.[1]) {
    // legacy: 0x70 in file.cu:12:fn(int*)  |  0x70 in fn(int*)
    offset = legacy[1];
    s = s.slice(legacy[0].length);
    const fileLine = /^([^\s:]{1,1000}:\d{1,9}):/.exec(s);
    if (fileLine?.[1]) {
      location = fileLine[1];
      s = s.slice(fileLine[0].length);
    }
  } else {
    if (inFile?.[1]) {
      location = inFile[1];
      s = s.slice(0, inFile.index);
    }
    const plus = s.lastIndexOf('+0x');
    if (plus > 0 && /^\+0x[0-9a-fA-F]{1,16}$/.test(s.slice(plus))) {
      offset = s.slice(plus + 1);
      s = s.slice(0, plus);
    }
    const fileLine = /^([^\s:]{1,1000}:\d{1,9}):(?=\S)/.exec(s);
    if (fileLine?.[1]) {
      location ??= fileLine[1];
      s = s.slice(fileLine[0].length);
    }
  }
  if (!s || /^0x[0-9a-fA-F]+$/.test(s)) return null;
  const out: { raw: string; offset?: string; location?: string; bare?: string } = { raw: s };
  if (offset) out.offset = offset;
  if (location) out.location = location;
  const bare = bareKernelName(s);
  if (bare) out.bare = bare;
  return out;
}

function addDetail(error: SanitizerError, t: string): void {
  const frame = /^Host Frame:\s*(.*)$/.exec(t);
  if (frame) {
    if (error.hostFrames.length < 60) error.hostFrames.push((frame[1] ?? '').trim());
    return;
  }
  const at = /^at (.+)$/.exec(t);
  if (at?.[1] && !error.kernel) {
    setKernel(error, at[1]);
    return;
  }
  // memcheck's device call stack: the access is in a __device__ function, the last frame is the kernel.
  const deviceFrame = /^Device Frame:\s*(.+)$/.exec(t);
  if (deviceFrame?.[1]) {
    const loc = parseCodeLocation(deviceFrame[1]);
    if (loc?.bare && (error.deviceFrames ??= []).length < 60) {
      error.deviceFrames.push(deviceFrame[1].trim());
      if (error.kernel && error.kernel !== loc.bare) error.deviceFunction ??= error.kernel;
      error.kernel = loc.bare;
    }
    return;
  }
  // Hazard reports: `Write Thread (31,0,0) at 0x00000170 in race.cu:10:sharedKernel(int*)`.
  const thread = /^(Read|Write|Atomic|Access)\s+Thread (\(\d+,\d+,\d+\)) at (.+)$/.exec(t);
  if (thread?.[1] && thread[3]) {
    const race = (error.race ??= { first: '', second: '' });
    const what = `${thread[1]} by thread ${thread[2]} at ${thread[3]}`;
    if (!race.first) race.first = what;
    else if (!race.second) race.second = what;
    if (!error.kernel) setKernel(error, thread[3]);
    return;
  }
  const second = /^and (.+?) access at (.+)$/.exec(t);
  if (second?.[1] && second[2] && error.race) {
    error.race.second = `${second[1]} at ${second[2]}`;
    const hazards = /\[(\d+) hazards?\]/.exec(second[2]);
    if (hazards?.[1]) error.race.hazards = Number(hazards[1]);
    return;
  }
  const who = /^by thread (\(\d+,\d+,\d+\)) in block (\(\d+,\d+,\d+\))/.exec(t);
  if (who?.[1] && who[2]) {
    error.thread = who[1];
    error.block = who[2];
    return;
  }
  const addr = /^(?:Access to|Address) (0x[0-9a-fA-F]+) (.+)$/.exec(t);
  if (addr?.[1] && addr[2]) {
    error.address = addr[1];
    error.addressNote = addr[2].replace(/\.$/, '');
  }
}

export function describeSanitizer(r: SanitizerReport): string {
  const first = r.errors.find((e) => e.category !== 'api') ?? r.errors[0];
  const head = first ? `${first.kind}${first.kernel ? ` in ${first.kernel}` : ''}` : 'no errors';
  return `compute-sanitizer ${r.tool}: ${r.errors.length} report(s), first: ${head}${r.summary ? ` (${r.summary.text})` : r.incomplete ? ' (no summary: run aborted or file cut)' : ''}`;
}

export const computeSanitizerRecognizer: Recognizer<'compute-sanitizer'> = {
  kind: 'compute-sanitizer',
  sniff: (file) => looksLikeText(file) && /^={5,} (COMPUTE-SANITIZER|CUDA-MEMCHECK|Invalid|Race reported|ERROR|Program hit|Barrier error|Uninitialized)/m.test(file.head),
  async read(file, signal) {
    const report = parseComputeSanitizer(await readEvidenceText(file, signal));
    return report.errors.length || report.summary ? report : null;
  },
  describe: describeSanitizer,
};
