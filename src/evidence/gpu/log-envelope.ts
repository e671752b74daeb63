/**
 * SGLang's per-process log prefix: `[2026-09-13 16:06:06 DP1 TP3] message`, `[TP0] message` in tests and
 * repros, torch's `[rank3]:` prefix, and process titles `sglang::scheduler_DP1_TP3`. Parse by substrings,
 * not a fixed layout (reference §7.1).
 */
export interface RankLabel {
  /** Normalised label, e.g. "TP3" or "DP1 TP3". */
  label: string;
  tp?: number;
  dp?: number;
  pp?: number;
  ep?: number;
  /** torch's global rank (`[rank3]:`). */
  rank?: number;
}

const ENVELOPE_RE = /^\s*\[(?:\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\s*)?((?:(?:DP|PP|TP|EP|NP|CP|ATTN_TP|MOE_EP|MOE_DP)\d+\s*)+)\]/;
const TORCH_RANK_RE = /^\s*(?:\[\d+\]\s*)?\[rank(\d+)\]:/;
const TITLE_RE = /sglang::(?:scheduler|detokenizer)((?:_(?:DP|PP|TP|EP|NP|CP)\d+)*)/;

function fromParts(parts: string[]): RankLabel | null {
  const label: RankLabel = { label: parts.join(' ') };
  for (const p of parts) {
    const m = /^(ATTN_TP|MOE_EP|MOE_DP|DP|PP|TP|EP|NP|CP)(\d+)$/.exec(p);
    if (!m?.[1] || m[2] === undefined) continue;
    const n = Number(m[2]);
    if (m[1] === 'TP') label.tp = n;
    else if (m[1] === 'DP') label.dp = n;
    else if (m[1] === 'PP') label.pp = n;
    else if (m[1] === 'EP') label.ep = n;
  }
  return parts.length ? label : null;
}

/** The rank prefix of one log line, if it has one. */
export function rankLabelOfLine(line: string): RankLabel | null {
  const env = ENVELOPE_RE.exec(line);
  if (env?.[1]) return fromParts(env[1].trim().split(/\s+/));
  const torch = TORCH_RANK_RE.exec(line);
  if (torch?.[1]) return { label: `rank${torch[1]}`, rank: Number(torch[1]) };
  return null;
}

/** The rank encoded in a process title (`sglang::scheduler_TP1`). */
export function rankLabelOfTitle(command: string): RankLabel | null {
  const m = TITLE_RE.exec(command);
  if (!m) return null;
  const parts = (m[1] ?? '').split('_').filter(Boolean);
  return parts.length ? fromParts(parts) : { label: 'scheduler' };
}

/** A line that starts a new log record (so a multi-line block before it has ended). */
export function startsLogRecord(line: string): boolean {
  return /^\s*\[\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}/.test(line) || ENVELOPE_RE.test(line) || /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/.test(line);
}

/** The numeric rank a label stands for, when it is unambiguous (TP alone, or torch rank). */
export function numericRank(label: RankLabel | null | undefined): number | undefined {
  if (!label) return undefined;
  if (label.rank !== undefined) return label.rank;
  if (label.tp !== undefined && label.dp === undefined && label.pp === undefined) return label.tp;
  return undefined;
}

/**
 * Longest line the per-line parsers look at. Nothing worth reading fits only past 16 KiB, and some
 * patterns cost more than linear time on pathological lines (a multi-MB line must not stall triage).
 */
export const MAX_LINE_CHARS = 16 * 1024;

/** A line cut to MAX_LINE_CHARS, before any regex sees it. */
export function clipLine(line: string): string {
  return line.length > MAX_LINE_CHARS ? line.slice(0, MAX_LINE_CHARS) : line;
}

/** The text's lines, each cut to MAX_LINE_CHARS; line numbers are unchanged. */
export function splitLogLines(text: string): string[] {
  return text.split(/\r?\n/).map(clipLine);
}
