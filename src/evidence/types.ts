/**
 * Evidence found in an incident folder. Each parser module adds its kind by augmenting
 * `EvidenceKinds` (TypeScript declaration merging), so the scanner and the router stay typed
 * without a central file every parser must edit:
 *
 *   declare module '../evidence/types.js' {
 *     interface EvidenceKinds { 'cuda-gdb': CudaGdbTranscript }
 *   }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface EvidenceKinds {}

export type EvidenceKind = keyof EvidenceKinds;

export type EvidenceItem<K extends EvidenceKind = EvidenceKind> = {
  [P in K]: {
    kind: P;
    /** Path relative to the folder that was scanned (what report.evidence[].file shows). */
    file: string;
    data: EvidenceKinds[P];
  };
}[K];

/** What the scanner knows about a file before any parser reads it. */
export interface SniffedFile {
  /** Absolute path. */
  path: string;
  /** Path relative to the scanned root, with forward slashes. */
  rel: string;
  size: number;
  /** The first 64 KiB decoded as latin1 (byte-exact, so binary magic numbers can be checked). */
  head: string;
  /**
   * The scanner's bounded read of the whole file (head and tail whole, the middle scanned for incident
   * lines), done once and shared by every recognizer that reads this file.
   */
  readText?: (signal: AbortSignal) => Promise<{ text: string; truncated: boolean; note?: string }>;
}

/**
 * A recognizer decides by CONTENT whether a file is its kind (never by exact file name), then reads it.
 * `read` returns null when, on a full read, the file turns out not to be its kind after all.
 */
export interface Recognizer<K extends EvidenceKind = EvidenceKind> {
  kind: K;
  /** Cheap check on the head. May return true for several recognizers; each then reads the file. */
  sniff(file: SniffedFile): boolean;
  read(file: SniffedFile, signal: AbortSignal): Promise<EvidenceKinds[K] | null>;
  /** One line for the report's `checked` list, e.g. "cuda-gdb on a coredump: 1 exception". */
  describe(data: EvidenceKinds[K]): string;
}

/** A folder's worth of evidence, with typed access by kind. */
export class Evidence {
  readonly items: EvidenceItem[];
  /** Files that were looked at but matched no recognizer. */
  readonly unrecognised: string[];
  /** One line per item: what was looked at (report.checked). */
  readonly checked: string[];

  constructor(items: EvidenceItem[], unrecognised: string[] = [], checked: string[] = []) {
    this.items = items;
    this.unrecognised = unrecognised;
    this.checked = checked;
  }

  of<K extends EvidenceKind>(kind: K): Array<EvidenceItem<K>> {
    return (this.items as Array<{ kind: string }>).filter((item) => item.kind === kind) as Array<EvidenceItem<K>>;
  }

  has(kind: EvidenceKind): boolean {
    return (this.items as Array<{ kind: string }>).some((item) => item.kind === kind);
  }
}
