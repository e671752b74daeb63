/** One request to replay, already in `/generate` JSON form (produced from a crash or request dump). */
export interface ReplayRequest {
  /** Position in the dump after sorting by creation time. */
  index: number;
  rid?: string;
  /** Recorded creation time, epoch seconds. Replay keeps relative offsets between these. */
  createdAt: number;
  /** Recorded finish (or dump) time, epoch seconds, when known. */
  finishedAt?: number;
  /** The POST /generate body. */
  body: Record<string, unknown>;
  stream: boolean;
  recordedPromptTokens?: number;
  recordedCompletionTokens?: number;
  /** True when the dump had no output for it: the strongest trigger candidate. */
  unfinished: boolean;
}
