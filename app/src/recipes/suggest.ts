/**
 * "Did you mean ...?" for a misspelt name: the allowed name closest to what was written, when it is close
 * enough to be a typo (a recipe's `max_train_step`, a visual prompt kind `horzon`).
 */

/** Edit distance (insertions, deletions, substitutions, and swaps of two neighbours count one each). */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const substitution = rows[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, substitution);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The candidate nearest to `given` (case ignored), or undefined when none is within a typo's reach: a third
 * of the longer name's letters, at least 1 and at most 3, so `lr` suggests nothing rather than anything.
 */
export function closestName(given: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(given.toLowerCase(), name.toLowerCase());
    const reach = Math.min(3, Math.max(1, Math.floor(Math.max(given.length, name.length) / 3)));
    if (distance <= reach && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** ", did you mean 'x'?" when a candidate is near `given`, else "": to append to the sentence naming it. */
export function didYouMean(given: string, candidates: readonly string[]): string {
  const near = closestName(given, candidates);
  return near === undefined ? "" : `, did you mean '${near}'?`;
}
