/**
 * "Did you mean …" for mistyped subcommands, flags and server names. No maintained npm package for
 * this ships in our dependency tree, so it is the textbook optimal-string-alignment distance
 * (Damerau–Levenshtein with adjacent transpositions: `captrue` → `capture` costs 1).
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The closest candidates to `input`: within about a third of its length in edits (at least 1, at
 * most 3), or the only candidate that `input` is a prefix of. Closest first; ties keep list order.
 */
export function closestMatches(input: string, candidates: readonly string[], max = 3): string[] {
  const needle = input.toLowerCase();
  if (!needle) return [];
  const limit = Math.min(3, Math.max(1, Math.floor(needle.length / 3)));
  const scored = candidates
    .map((c, order) => ({ c, order, d: editDistance(needle, c.toLowerCase()) }))
    .filter((s) => s.d <= limit && s.c !== input)
    .sort((x, y) => x.d - y.d || x.order - y.order)
    .map((s) => s.c);
  if (scored.length) return scored.slice(0, max);
  const prefixed = candidates.filter((c) => c !== input && needle.length >= 2 && c.toLowerCase().startsWith(needle));
  return prefixed.length === 1 ? prefixed : [];
}

/** ` Did you mean "x"?` / ` Did you mean "x" or "y"?`, or '' when nothing is close. */
export function didYouMean(input: string, candidates: readonly string[], quote: (s: string) => string = (s) => `"${s}"`): string {
  const matches = closestMatches(input, candidates);
  if (!matches.length) return '';
  const shown = matches.map(quote);
  const list = shown.length === 1 ? shown[0] : `${shown.slice(0, -1).join(', ')} or ${shown[shown.length - 1]}`;
  return ` Did you mean ${list}?`;
}
