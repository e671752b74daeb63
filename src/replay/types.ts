/** One request to replay, already in `/generate` JSON form (produced from a crash or request dump). */
export interface ReplayRequest {
  /** Position in the dump after sorting by creation time. */
  index: number;
  rid?: string;
  /** Recorded creation time, epoch seconds. Replay keeps relative offsets between these. */
  createdAt: number;
  /** Recorded finish (or dump) time, epoch seconds, when known. */
  finishedAt?: number;
  /**
   * The POST /generate body, or a function that builds it: dumps build each body when its request
   * is sent, so the first request leaves without the whole dump decoded. The function may throw a
   * TriageError (the record is then recorded as a bad record, not sent).
   */
  body: Record<string, unknown> | (() => Record<string, unknown>);
  stream: boolean;
  recordedPromptTokens?: number;
  recordedCompletionTokens?: number;
  /** True when the dump had no output for it: the strongest trigger candidate. */
  unfinished: boolean;
}
