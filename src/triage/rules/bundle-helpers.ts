import type { BundleSummary } from '../../evidence/bundle/summary.js';
import { hasSignal, LATENCY_SIGNAL_IDS, latencySignals, type Signal, type SignalId } from '../../evidence/bundle/signals.js';
import { windowView, type LatencyView } from '../../evidence/bundle/window.js';
import type { Evidence, EvidenceItem } from '../../evidence/types.js';

export type BundleItem = EvidenceItem<'bundle'>;

/** The bundle that describes the incident itself: replay-time first, then live, then baseline. */
export function incidentBundle(evidence: Evidence): BundleItem | undefined {
  const bundles = evidence.of('bundle');
  return bundles.find((b) => b.data.role === 'replay') ?? bundles.find((b) => b.data.role === 'live') ?? bundles.find((b) => b.data.role === 'baseline');
}

/**
 * The production server's own bundle: live first, then baseline. Replay-time bundles are of the clean
 * target, so load and latency verdicts about production never read them.
 */
export function productionBundle(evidence: Evidence): BundleItem | undefined {
  const bundles = evidence.of('bundle');
  return bundles.find((b) => b.data.role === 'live') ?? bundles.find((b) => b.data.role === 'baseline');
}

export function baselineBundle(evidence: Evidence): BundleItem | undefined {
  return evidence.of('bundle').find((b) => b.data.role === 'baseline');
}

export function signalIn(bundle: BundleItem | undefined, id: SignalId): Signal | undefined {
  return bundle ? hasSignal(bundle.data.signals, id) : undefined;
}

/** A file path relative to the scanned root, for report.evidence. */
export function bundleFile(bundle: BundleItem, file: string): string {
  return bundle.file === '.' ? file : `${bundle.file}/${file}`;
}

export function isHealthy(b: BundleSummary): boolean {
  return b.health.health_ok && b.health.health_generate_ok && !b.signals.some((s) => s.id === 'control-plane-degraded');
}

export function multiRank(b: BundleSummary | undefined): boolean {
  if (!b) return false;
  const t = b.topology;
  return (t.tp_size ?? 1) > 1 || (t.pp_size ?? 1) > 1 || (t.ep_size ?? 1) > 1 || (t.dp_size ?? 1) > 1;
}

/** ISO (ours) or the reference tool's `%Y%m%d_%H%M%S` (local time). */
export function collectedAtMs(b: BundleSummary): number | null {
  const t = b.collected_at;
  if (!t) return null;
  const ref = /^(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})$/.exec(t);
  const ms = ref ? new Date(+ref[1]!, +ref[2]! - 1, +ref[3]!, +ref[4]!, +ref[5]!, +ref[6]!).getTime() : Date.parse(t);
  return Number.isFinite(ms) ? ms : null;
}

/**
 * The latency view a verdict should use for `bundle`: its own capture window, else the window between it
 * and another bundle of the same server in the folder, else lifetime averages.
 */
export function latencyFor(evidence: Evidence, bundle: BundleItem): LatencyView {
  if (bundle.data.window) return bundle.data.window;
  const pair = pairedWindow(evidence, bundle);
  return pair ?? bundle.data.latency;
}

function pairedWindow(evidence: Evidence, bundle: BundleItem): LatencyView | null {
  const id = bundle.data.base_url ?? bundle.data.server;
  const at = collectedAtMs(bundle.data);
  if (!id || at === null) return null;
  const others = evidence
    .of('bundle')
    .filter((b) => b !== bundle && (b.data.base_url ?? b.data.server) === id && b.data.metrics.available)
    .map((b) => ({ b, at: collectedAtMs(b.data) }))
    .filter((x): x is { b: BundleItem; at: number } => x.at !== null && x.at !== at)
    .sort((x, y) => Math.abs(x.at - at) - Math.abs(y.at - at));
  for (const other of others) {
    const [first, second] = other.at < at ? [other, { b: bundle, at }] : [{ b: bundle, at }, other];
    const seconds = (second.at - first.at) / 1000;
    const r = windowView(first.b.data.metrics.counters, second.b.data.metrics.counters, seconds, 'bundle-pair', `over the ${seconds.toFixed(0)} s between bundles ${first.b.file} and ${second.b.file}`);
    if (r.ok) return r.view;
  }
  return null;
}

/** The bundle's signals with the latency ones recomputed over `latencyFor`'s view. */
export function bundleSignals(evidence: Evidence, bundle: BundleItem): { signals: Signal[]; latency: LatencyView } {
  const latency = latencyFor(evidence, bundle);
  if (latency === bundle.data.latency) return { signals: bundle.data.signals, latency };
  const kept = bundle.data.signals.filter((s) => !LATENCY_SIGNAL_IDS.includes(s.id));
  return { signals: [...kept, ...latencySignals(latency, bundle.data.metrics.lifetime_cache_hit_rate, 'metrics.txt')], latency };
}
