/**
 * How SGLang answers /health and /health_generate (`python/sglang/srt/entrypoints/http_server.py`,
 * `health_generate`, both routes on one handler):
 * - 503 at once while the server is starting (`ServerStatus.Starting`) or shutting down (`gracefully_exit`);
 * - otherwise it sends a one-token probe and polls once a second for
 *   `HEALTH_CHECK_TIMEOUT = int(os.getenv("SGLANG_HEALTH_CHECK_TIMEOUT", 20))` seconds: 200 as soon as the
 *   detokenizer answers anything, 503 when nothing came back in that time (the scheduler is stalled);
 * - `/health` alone answers 200 without a probe when SGLANG_ENABLE_HEALTH_ENDPOINT_GENERATION=0.
 */
export const SGLANG_HEALTH_CHECK_TIMEOUT_S = 20;

/**
 * A 503 that took at least this long came out of the probe loop, not the fast start-up/shutdown path: the
 * loop sleeps 1 s before its first check, the fast path answers without waiting. Any
 * SGLANG_HEALTH_CHECK_TIMEOUT therefore reads right (the real H200 closed-loop run used 5 s).
 */
export const HEALTH_STALL_MIN_MS = 1000;

export type HealthVerdict =
  | 'ok'
  /** 503 after the probe waited: the scheduler produced nothing. */
  | 'stalled'
  /** Fast 503: starting or draining. */
  | 'refusing'
  /** 503 whose duration the bundle does not record (a reference-tool bundle). */
  | 'http-503'
  | 'failed'
  /** Timeout, reset or refusal: no HTTP answer at all. */
  | 'no-verdict'
  | 'missing';

export function healthVerdict(state: string, status: number | null, elapsedMs: number | null): HealthVerdict {
  if (state === 'ok') return 'ok';
  if (state === 'missing') return 'missing';
  if (state === 'timeout' || state === 'reset' || state === 'refused' || state === 'aborted') return 'no-verdict';
  if (state === 'http-error' && status === 503) {
    if (elapsedMs === null) return 'http-503';
    return elapsedMs >= HEALTH_STALL_MIN_MS ? 'stalled' : 'refusing';
  }
  return 'failed';
}
