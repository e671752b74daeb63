/**
 * Total length of the union of many [start, end) intervals, in bounded memory.
 *
 * Intervals arrive in any order. They are buffered in a fixed block, then sorted and merged into a
 * sorted list of disjoint segments. If that list outgrows `maxSegments` (a trace whose kernels are
 * all separated by idle gaps), the smallest gaps are closed to halve it, and the time those gaps
 * held is kept in `overestimateUs`: the busy time is then exact to within that bound.
 */
export class IntervalUnion {
  private pendingStart: Float64Array;
  private pendingEnd: Float64Array;
  private pending = 0;
  private segStart = new Float64Array(0);
  private segEnd = new Float64Array(0);
  private segments = 0;
  /** Idle time counted as busy because gaps were closed to stay within `maxSegments`. */
  overestimateUs = 0;

  constructor(
    private readonly blockSize = 65536,
    private readonly maxSegments = 262144,
  ) {
    this.pendingStart = new Float64Array(blockSize);
    this.pendingEnd = new Float64Array(blockSize);
  }

  add(start: number, end: number): void {
    if (!(end > start)) return;
    this.pendingStart[this.pending] = start;
    this.pendingEnd[this.pending] = end;
    if (++this.pending === this.blockSize) this.flush();
  }

  /** Sum of the union's lengths. */
  total(): number {
    this.flush();
    let sum = 0;
    for (let k = 0; k < this.segments; k++) sum += this.segEnd[k]! - this.segStart[k]!;
    return sum;
  }

  /** Calls fn for each disjoint segment, in order. */
  forEachSegment(fn: (start: number, end: number) => void): void {
    this.flush();
    for (let k = 0; k < this.segments; k++) fn(this.segStart[k]!, this.segEnd[k]!);
  }

  /** Disjoint segments held now (after a flush): a measure of the memory in use. */
  segmentCount(): number {
    this.flush();
    return this.segments;
  }

  private flush(): void {
    const n = this.pending;
    if (!n) return;
    const order = sortedOrder(this.pendingStart, n);
    const outStart = new Float64Array(this.segments + n);
    const outEnd = new Float64Array(this.segments + n);
    let m = 0;
    let a = 0;
    let b = 0;
    const push = (s: number, e: number): void => {
      if (m > 0 && s <= outEnd[m - 1]!) {
        if (e > outEnd[m - 1]!) outEnd[m - 1] = e;
      } else {
        outStart[m] = s;
        outEnd[m] = e;
        m++;
      }
    };
    while (a < this.segments || b < n) {
      const takeSeg = b >= n || (a < this.segments && this.segStart[a]! <= this.pendingStart[order[b]!]!);
      if (takeSeg) {
        push(this.segStart[a]!, this.segEnd[a]!);
        a++;
      } else {
        const k = order[b]!;
        push(this.pendingStart[k]!, this.pendingEnd[k]!);
        b++;
      }
    }
    this.pending = 0;
    this.segStart = outStart.subarray(0, m);
    this.segEnd = outEnd.subarray(0, m);
    this.segments = m;
    if (m > this.maxSegments) this.coarsen();
    else if (outStart.length > 2 * m + 1024) {
      this.segStart = this.segStart.slice();
      this.segEnd = this.segEnd.slice();
    }
  }

  /** Closes the smaller half of the gaps. */
  private coarsen(): void {
    const m = this.segments;
    const gaps = new Float64Array(m - 1);
    for (let k = 1; k < m; k++) gaps[k - 1] = this.segStart[k]! - this.segEnd[k - 1]!;
    const sorted = gaps.slice().sort();
    const threshold = sorted[Math.floor(sorted.length / 2)]!;
    const outStart = new Float64Array(Math.ceil(m / 2) + 1);
    const outEnd = new Float64Array(outStart.length);
    let w = 0;
    let budget = outStart.length;
    outStart[0] = this.segStart[0]!;
    outEnd[0] = this.segEnd[0]!;
    for (let k = 1; k < m; k++) {
      const gap = gaps[k - 1]!;
      // Close gaps up to the median; keep at most `budget` segments even when many gaps tie.
      if (gap <= threshold || w + 1 >= budget - 1) {
        this.overestimateUs += gap;
        outEnd[w] = this.segEnd[k]!;
      } else {
        w++;
        outStart[w] = this.segStart[k]!;
        outEnd[w] = this.segEnd[k]!;
      }
    }
    budget = w + 1;
    this.segStart = outStart.slice(0, budget);
    this.segEnd = outEnd.slice(0, budget);
    this.segments = budget;
  }
}

/** Indices of the first n values in ascending order; cheap when they are already (nearly) sorted. */
function sortedOrder(values: Float64Array, n: number): Uint32Array {
  const order = new Uint32Array(n);
  let sorted = true;
  for (let k = 0; k < n; k++) {
    order[k] = k;
    if (k > 0 && values[k]! < values[k - 1]!) sorted = false;
  }
  if (!sorted) order.sort((x, y) => values[x]! - values[y]!);
  return order;
}
