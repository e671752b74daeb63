import type { BundleSummary } from '../../evidence/bundle/summary.js';
import type { Evidence, EvidenceItem } from '../../evidence/types.js';
import { hasSignal, type Signal, type SignalId } from '../signals.js';

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
