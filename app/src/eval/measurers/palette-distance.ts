/** Distance between palettes, in CIEDE2000 units. */
import { ciede2000 } from "./colour.js";
import type { Lab } from "./types.js";

/** All permutations of 0..n-1 choose m (ordered), for the brute-force assignment (n <= 8 is cheap). */
function* injections(n: number, m: number, prefix: number[] = []): Generator<number[]> {
  if (prefix.length === m) {
    yield prefix;
    return;
  }
  for (let i = 0; i < n; i++) if (!prefix.includes(i)) yield* injections(n, m, [...prefix, i]);
}

/**
 * Distance between two palettes, in CIEDE2000 units (symmetric; 0 for identical palettes):
 * with |small| <= |large|, every colour of the smaller palette is matched to a distinct colour of the
 * larger one, and each colour of the larger palette left unmatched is paired with its nearest colour
 * in the smaller one; of all such matchings (exhaustive search: palettes have <= 8 colours) the one of
 * least total CIEDE2000 is taken, and the result is its mean over the |large| pairs. So every colour
 * of both palettes counts at least once, and an extra or missing colour costs its distance to the
 * closest one present. Symmetric because CIEDE2000 is, and because only the sizes pick the roles.
 */
export function paletteDistance(a: readonly Lab[], b: readonly Lab[]): number {
  if (a.length === 0 || b.length === 0) throw new Error("paletteDistance needs two non-empty palettes");
  if (Math.max(a.length, b.length) > 8)
    throw new Error("paletteDistance supports palettes of up to 8 colours");
  const [small, large] = a.length <= b.length ? [a, b] : [b, a];
  const d = small.map((s) => large.map((l) => ciede2000(s, l)));
  let best = Infinity;
  for (const perm of injections(large.length, small.length)) {
    let cost = 0;
    const used = new Set(perm);
    perm.forEach((j, i) => {
      cost += (d[i] as number[])[j] as number;
    });
    for (let j = 0; j < large.length; j++) {
      if (!used.has(j)) cost += Math.min(...d.map((row) => row[j] as number));
    }
    best = Math.min(best, cost);
  }
  return best / large.length;
}
