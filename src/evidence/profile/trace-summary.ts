import { bareKernelName } from '../gpu/kernel-names.js';
import { IntervalUnion } from './interval-union.js';

/**
 * What a torch.profiler trace says about where GPU time went. Times are microseconds, as the
 * Chrome trace format writes `ts` and `dur`.
 */
export interface KernelShare {
  /** Bare kernel name (no namespace, template arguments or parameters), the key of the table. */
  name: string;
  /** One full name seen for it, cut to 300 characters, for people. */
  example: string;
  count: number;
  totalUs: number;
  /** Of all kernel time in the trace. */
  share: number;
}

export interface DeviceActivity {
  device: number;
  kernels: number;
  kernelUs: number;
  /** Union of kernel, memcpy and memset intervals on this device. */
  busyUs: number;
  /** windowUs − busyUs. */
  idleUs: number;
  busyShare: number;
  streams: number;
  /** Busiest streams first (at most 8): which stream carries the work, and whether another overlaps it. */
  streamBusy: Array<{ stream: string; kernels: number; busyUs: number; busyOverestimateUs?: number }>;
  /** Present when the union had to close small gaps to bound memory: busyUs may be high by this much. */
  busyOverestimateUs?: number;
}

export interface RangeTime {
  /** The `record_function` / user annotation name. */
  name: string;
  count: number;
  /** Wall time of the range on the CPU thread that opened it. */
  cpuUs: number;
  /** GPU-side span the profiler attributes to the range (gpu_user_annotation); 0 when absent. */
  gpuUs: number;
}

export interface TraceSummary {
  /** Complete elements of traceEvents read. */
  events: number;
  /** Elements longer than the scanner's cap, dropped. */
  oversizedEvents: number;
  /** Elements that were not valid JSON, dropped. */
  badEvents: number;
  /** The document ended properly (false: cut off, e.g. the profiler died mid-write). */
  complete: boolean;
  /** Span from the first to the last timed event that was read (GPU activity, annotations, runtime calls). */
  windowUs: number;
  kernelCount: number;
  kernelTimeUs: number;
  distinctKernels: number;
  topKernels: KernelShare[];
  /** Kernel time of names past the distinct-name cap, pooled. */
  otherKernelUs: number;
  devices: DeviceActivity[];
  ranges: RangeTime[];
  memcpyUs: number;
  memsetUs: number;
  runtimeCalls: number;
  runtimeUs: number;
  deviceNames: string[];
  rank?: number;
  worldSize?: number;
  dominantKernel?: { name: string; share: number };
}

export interface SummaryLimits {
  maxKernelNames: number;
  maxRangeNames: number;
  topKernels: number;
  topRanges: number;
}

export const DEFAULT_SUMMARY_LIMITS: SummaryLimits = { maxKernelNames: 20000, maxRangeNames: 5000, topKernels: 15, topRanges: 20 };

/** Categories whose events are parsed; every other event (cpu_op, python_function, flows) is skipped unparsed. */
const WANTED_CATEGORIES = new Set(['kernel', 'gpu_memcpy', 'gpu_memset', 'user_annotation', 'gpu_user_annotation', 'cuda_runtime', 'cuda_driver', 'Trace']);

interface TraceEvent {
  ph?: unknown;
  cat?: unknown;
  name?: unknown;
  ts?: unknown;
  dur?: unknown;
  pid?: unknown;
  tid?: unknown;
  args?: { device?: unknown; stream?: unknown } | null;
}

const MAX_DEVICES = 16;
/** Streams split out, over all devices: each holds an interval union of at most ~2 MiB. */
const MAX_STREAMS = 16;

interface DeviceAcc {
  kernels: number;
  kernelUs: number;
  /** Intervals of streams that are not split out (no stream id, or past MAX_STREAMS). */
  unsplit: IntervalUnion | null;
  /** Split-out streams; the device's busy time is the union of these and `unsplit`. */
  streams: Map<string, { kernels: number; union: IntervalUnion }>;
  /** Distinct stream ids seen (capped), split out or not. */
  streamIds: Set<string>;
}

function newDevice(): DeviceAcc {
  return { kernels: 0, kernelUs: 0, unsplit: null, streams: new Map(), streamIds: new Set() };
}

/** A device's busy time: the union of its streams' unions (each already disjoint and sorted). */
function deviceUnion(d: DeviceAcc): { union: IntervalUnion; overestimateUs: number } {
  const union = new IntervalUnion(16384, 262144);
  let overestimateUs = 0;
  for (const part of [...[...d.streams.values()].map((st) => st.union), ...(d.unsplit ? [d.unsplit] : [])]) {
    part.forEachSegment((s, e) => union.add(s, e));
    overestimateUs += part.overestimateUs;
  }
  union.total();
  return { union, overestimateUs: overestimateUs + union.overestimateUs };
}

/** Reads the category of an event from its text without parsing it; null when it cannot tell. */
function categoryOf(text: string): string | null {
  const k = text.indexOf('"cat"');
  if (k < 0) return null;
  let p = k + 5;
  while (p < text.length && (text.charCodeAt(p) === 32 || text.charCodeAt(p) === 58 || text.charCodeAt(p) === 10 || text.charCodeAt(p) === 9 || text.charCodeAt(p) === 13)) p++;
  if (text.charCodeAt(p) !== 34) return null;
  const end = text.indexOf('"', p + 1);
  return end < 0 ? null : text.slice(p + 1, end);
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : null);

/** Accumulates trace events into a TraceSummary. Memory is bounded by the name caps and IntervalUnion. */
export class TraceAggregator {
  events = 0;
  badEvents = 0;
  private windowStart = Infinity;
  private windowEnd = -Infinity;
  private kernels = new Map<string, { example: string; count: number; totalUs: number }>();
  private bareCache = new Map<string, string>();
  private otherKernelUs = 0;
  private kernelCount = 0;
  private kernelTimeUs = 0;
  private devices = new Map<number, DeviceAcc>();
  private ranges = new Map<string, { count: number; cpuUs: number; gpuUs: number }>();
  private memcpyUs = 0;
  private memsetUs = 0;
  private runtimeCalls = 0;
  private runtimeUs = 0;
  private deviceNames: string[] = [];
  private rank: number | undefined;
  private worldSize: number | undefined;
  private overflowDevice: DeviceAcc | undefined;
  private streamCount = 0;

  constructor(private readonly limits: SummaryLimits = DEFAULT_SUMMARY_LIMITS) {}

  /** One element of traceEvents as JSON text. */
  addEventText(text: string): void {
    this.events++;
    const cat = categoryOf(text);
    if (cat !== null && !WANTED_CATEGORIES.has(cat)) return;
    let ev: TraceEvent;
    try {
      ev = JSON.parse(text) as TraceEvent;
    } catch {
      this.badEvents++;
      return;
    }
    if (ev && typeof ev === 'object') this.addEvent(ev);
  }

  addEvent(ev: TraceEvent): void {
    if (ev.ph !== 'X' || typeof ev.cat !== 'string') return;
    const ts = num(ev.ts);
    const dur = num(ev.dur);
    if (ts === null || dur === null || dur < 0) return;
    if (ts < this.windowStart) this.windowStart = ts;
    if (ts + dur > this.windowEnd) this.windowEnd = ts + dur;
    const name = typeof ev.name === 'string' ? ev.name : '';
    switch (ev.cat) {
      case 'kernel': {
        this.kernelCount++;
        this.kernelTimeUs += dur;
        const dev = this.device(ev);
        dev.kernels++;
        dev.kernelUs += dur;
        this.addInterval(ev, dev, ts, ts + dur, true);
        this.addKernel(name, dur);
        break;
      }
      case 'gpu_memcpy':
      case 'gpu_memset':
        if (ev.cat === 'gpu_memcpy') this.memcpyUs += dur;
        else this.memsetUs += dur;
        {
          this.addInterval(ev, this.device(ev), ts, ts + dur, false);
        }
        break;
      case 'user_annotation':
      case 'gpu_user_annotation': {
        let r = this.ranges.get(name);
        if (!r) {
          if (this.ranges.size >= this.limits.maxRangeNames) return;
          r = { count: 0, cpuUs: 0, gpuUs: 0 };
          this.ranges.set(name, r);
        }
        if (ev.cat === 'user_annotation') {
          r.count++;
          r.cpuUs += dur;
        } else r.gpuUs += dur;
        break;
      }
      case 'cuda_runtime':
      case 'cuda_driver':
        this.runtimeCalls++;
        this.runtimeUs += dur;
        break;
      default:
        break;
    }
  }

  /** A top-level member the scanner captured (deviceProperties, distributedInfo). */
  addMemberText(key: string, text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return;
    }
    if (key === 'deviceProperties' && Array.isArray(value)) {
      this.deviceNames = value
        .map((d) => (d && typeof d === 'object' && typeof (d as { name?: unknown }).name === 'string' ? (d as { name: string }).name : null))
        .filter((n): n is string => n !== null)
        .slice(0, 64);
    } else if (key === 'distributedInfo' && value && typeof value === 'object') {
      const info = value as { rank?: unknown; world_size?: unknown };
      this.rank = num(info.rank) ?? undefined;
      this.worldSize = num(info.world_size) ?? undefined;
    }
  }

  summary(state: { complete: boolean; oversized: number }): TraceSummary {
    const windowUs = Number.isFinite(this.windowStart) ? this.windowEnd - this.windowStart : 0;
    const total = this.kernelTimeUs;
    const share = (us: number): number => (total > 0 ? us / total : 0);
    const topKernels: KernelShare[] = [...this.kernels.entries()]
      .sort((a, b) => b[1].totalUs - a[1].totalUs)
      .slice(0, this.limits.topKernels)
      .map(([name, k]) => ({ name, example: k.example, count: k.count, totalUs: k.totalUs, share: share(k.totalUs) }));
    const devices: DeviceActivity[] = [...this.devices.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([device, d]) => {
        const { union, overestimateUs } = deviceUnion(d);
        const busyUs = Math.min(union.total(), windowUs);
        const out: DeviceActivity = {
          device,
          kernels: d.kernels,
          kernelUs: d.kernelUs,
          busyUs,
          idleUs: Math.max(0, windowUs - busyUs),
          busyShare: windowUs > 0 ? busyUs / windowUs : 0,
          streams: d.streamIds.size,
          streamBusy: [...d.streams.entries()]
            .map(([stream, st]) => ({ stream, kernels: st.kernels, busyUs: st.union.total(), ...(st.union.overestimateUs > 0 ? { busyOverestimateUs: st.union.overestimateUs } : {}) }))
            .sort((a, b) => b.busyUs - a.busyUs)
            .slice(0, 8),
        };
        if (overestimateUs > 0) out.busyOverestimateUs = overestimateUs;
        return out;
      });
    const ranges: RangeTime[] = [...this.ranges.entries()]
      .map(([name, r]) => ({ name, ...r }))
      .sort((a, b) => Math.max(b.cpuUs, b.gpuUs) - Math.max(a.cpuUs, a.gpuUs))
      .slice(0, this.limits.topRanges);
    const out: TraceSummary = {
      events: this.events,
      oversizedEvents: state.oversized,
      badEvents: this.badEvents,
      complete: state.complete,
      windowUs,
      kernelCount: this.kernelCount,
      kernelTimeUs: total,
      distinctKernels: this.kernels.size,
      topKernels,
      otherKernelUs: this.otherKernelUs,
      devices,
      ranges,
      memcpyUs: this.memcpyUs,
      memsetUs: this.memsetUs,
      runtimeCalls: this.runtimeCalls,
      runtimeUs: this.runtimeUs,
      deviceNames: this.deviceNames,
    };
    if (this.rank !== undefined) out.rank = this.rank;
    if (this.worldSize !== undefined) out.worldSize = this.worldSize;
    const top = topKernels[0];
    if (top) out.dominantKernel = { name: top.name, share: top.share };
    return out;
  }

  private device(ev: TraceEvent): DeviceAcc {
    const id = num(ev.args?.device) ?? num(ev.pid) ?? 0;
    let d = this.devices.get(id);
    if (!d) {
      // A hostile trace could name a million devices: past the cap their activity is not tracked per device.
      // Worst case held by all unions: 16 streams and 16 device remainders of ~2 MiB each.
      if (this.devices.size >= MAX_DEVICES) return (this.overflowDevice ??= newDevice());
      d = newDevice();
      this.devices.set(id, d);
    }
    return d;
  }

  /** One GPU interval, into its stream's union (split out while fewer than MAX_STREAMS are) or the device's rest. */
  private addInterval(ev: TraceEvent, d: DeviceAcc, start: number, end: number, kernel: boolean): void {
    const raw = num(ev.args?.stream) ?? (typeof ev.tid === 'string' || typeof ev.tid === 'number' ? ev.tid : null);
    const key = raw === null ? null : String(raw);
    if (key !== null && d.streamIds.size < 1024) d.streamIds.add(key);
    let st = key === null ? undefined : d.streams.get(key);
    if (!st && key !== null && this.streamCount < MAX_STREAMS) {
      this.streamCount++;
      st = { kernels: 0, union: new IntervalUnion(4096, 131072) };
      d.streams.set(key, st);
    }
    if (st) {
      if (kernel) st.kernels++;
      st.union.add(start, end);
    } else (d.unsplit ??= new IntervalUnion(4096, 131072)).add(start, end);
  }

  private addKernel(full: string, dur: number): void {
    let bare = this.bareCache.get(full);
    if (bare === undefined) {
      bare = bareKernelName(full) ?? (full.slice(0, 200) || '(unnamed kernel)');
      if (this.bareCache.size < this.limits.maxKernelNames) this.bareCache.set(full, bare);
    }
    let k = this.kernels.get(bare);
    if (!k) {
      if (this.kernels.size >= this.limits.maxKernelNames) {
        this.otherKernelUs += dur;
        return;
      }
      k = { example: full.slice(0, 300), count: 0, totalUs: 0 };
      this.kernels.set(bare, k);
    }
    k.count++;
    k.totalUs += dur;
  }
}
