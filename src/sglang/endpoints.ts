/**
 * The read-only endpoints of a capture bundle, with the reference tool's file names
 * (`incident_artifact_tool.py collect-bundle`) so either tool can read the other's bundles.
 * Nothing here mutates the server: no profiling, no trace level, no flush.
 */
export interface EndpointSpec {
  /** File name inside the bundle. Text endpoints that fail are written as `<file>.error.json`. */
  file: string;
  path: string;
  format: 'text' | 'json';
  /** Older servers: tried in order when the primary answers 404 (or 405). */
  fallbacks: string[];
  /** /health and /health_generate run a generation probe that can take 20 s before a 503. */
  slow: boolean;
  /** ADMIN_OPTIONAL route: with both keys configured only the admin key is accepted. */
  admin?: boolean;
}

export const BUNDLE_ENDPOINTS: readonly EndpointSpec[] = [
  { file: 'health.txt', path: '/health', format: 'text', fallbacks: [], slow: true },
  { file: 'health_generate.txt', path: '/health_generate', format: 'text', fallbacks: [], slow: true },
  { file: 'metrics.txt', path: '/metrics', format: 'text', fallbacks: [], slow: false },
  { file: 'model_info.json', path: '/model_info', format: 'json', fallbacks: ['/get_model_info'], slow: false },
  { file: 'server_info.json', path: '/server_info', format: 'json', fallbacks: ['/get_server_info'], slow: false },
  { file: 'loads_all.json', path: '/v1/loads?include=all', format: 'json', fallbacks: ['/get_load'], slow: false },
  { file: 'loads_core_queues_disagg.json', path: '/v1/loads?include=core,queues,disagg,spec', format: 'json', fallbacks: ['/get_load'], slow: false },
  { file: 'hicache_storage_backend.json', path: '/hicache/storage-backend', format: 'json', fallbacks: [], slow: false, admin: true },
];

export const BUNDLE_FILES = ['metadata.json', 'SUMMARY.txt', ...BUNDLE_ENDPOINTS.flatMap((e) => (e.format === 'text' ? [e.file, `${e.file}.error.json`] : [e.file]))];

/** SGLang's health probe waits up to SGLANG_HEALTH_CHECK_TIMEOUT (20 s) before answering 503 (see health.ts). */
export const HEALTH_TIMEOUT_S = 25;
export const DEFAULT_TIMEOUT_S = 10;

/**
 * The per-request timeouts of one capture. An explicit `timeoutS` bounds every endpoint, the health probes
 * included, unless `healthTimeoutS` is given too; with neither, the defaults (10 s, and 25 s for the health
 * probes so that SGLang's 20 s probe can answer its 503).
 */
export function resolveCaptureTimeouts(explicit: { timeoutS?: number; healthTimeoutS?: number }): { timeoutS: number; healthTimeoutS: number } {
  const timeoutS = explicit.timeoutS ?? DEFAULT_TIMEOUT_S;
  const healthTimeoutS = explicit.healthTimeoutS ?? (explicit.timeoutS !== undefined ? explicit.timeoutS : HEALTH_TIMEOUT_S);
  return { timeoutS, healthTimeoutS };
}
