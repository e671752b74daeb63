/** Trailing slashes off, by hand: `/\/+$/` backtracks quadratically on a long run of slashes followed by text. */
export function trimTrailingSlashes(p: string): string {
  let end = p.length;
  while (end > 0 && p.charCodeAt(end - 1) === 47) end--;
  return p.slice(0, end);
}
