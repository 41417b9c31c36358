/**
 * "Did you mean": the closest of some valid words to what was typed, or none when nothing is close enough to help.
 * Edit distance with transpositions (`sycn` → `sync` is one edit), case-insensitive.
 */
export function closest(typed: string, candidates: readonly string[]): string | undefined {
  const word = typed.toLowerCase();
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate.toLowerCase());
    // Equally close: the one that shares the longer start (`fsh` is `fish`, not `zsh`).
    if (distance <= allowed(word, candidate) && (!best || distance < best.distance || (distance === best.distance && sharedStart(word, candidate) > sharedStart(word, best.candidate)))) {
      best = { candidate, distance };
    }
  }
  if (best) return best.candidate;
  // The one word that starts with what was typed (`conf` for `config`, `dry` for `dry-run`).
  const partial = word.length >= 3 ? candidates.filter((c) => c.toLowerCase().startsWith(word)) : [];
  return partial.length === 1 ? partial[0] : undefined;
}

const sharedStart = (a: string, b: string) => {
  let n = 0;
  while (n < a.length && a[n] === b[n]?.toLowerCase()) n++;
  return n;
};

/** Short words tolerate one edit, longer ones a third of their length (at most 3). */
function allowed(word: string, candidate: string): number {
  const length = Math.min(word.length, candidate.length);
  return length <= 4 ? 1 : Math.min(3, Math.floor(length / 3));
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps each cost 1. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** " (did you mean X?)" or "", for the end of an error line. */
export function didYouMean(typed: string, candidates: readonly string[], show: (word: string) => string = (w) => w): string {
  const match = closest(typed, candidates);
  return match ? ` (did you mean ${show(match)}?)` : "";
}
