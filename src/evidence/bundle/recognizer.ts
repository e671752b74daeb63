import { BUNDLE_FILES } from '../../sglang/endpoints.js';
import type { FolderRecognizer } from '../scan.js';
import { readBundleFiles, WINDOW_METRICS_FILE } from './read.js';
import { summariseBundle, type BundleSummary } from './summary.js';

declare module '../types.js' {
  interface EvidenceKinds {
    bundle: BundleSummary;
  }
}

const ENDPOINT_FILES = new Set(BUNDLE_FILES.filter((f) => f !== 'metadata.json' && f !== 'SUMMARY.txt'));
const OWNED = new Set([...BUNDLE_FILES, 'summary.json', 'SUMMARY_REPORT.txt', 'SUMMARY_REPORT.json', 'ready.txt', 'ready.txt.error.json', WINDOW_METRICS_FILE]);

/** A capture bundle (ours or the reference tool's): a folder holding at least two endpoint files. */
export const bundleRecognizer: FolderRecognizer<'bundle'> = {
  kind: 'bundle',
  matches: (names) => names.filter((n) => ENDPOINT_FILES.has(n)).length >= 2,
  consumes: (names) => names.filter((n) => OWNED.has(n)),
  read: async (dir, rel) => summariseBundle(await readBundleFiles(dir), rel),
  describe: (b) => {
    const h = `/health=${b.health.health_state} /health_generate=${b.health.health_generate_state}`;
    return `${b.role} bundle (${h}; ${b.signals.length} signal${b.signals.length === 1 ? '' : 's'})`;
  },
};
