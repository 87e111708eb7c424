/**
 * Is one way of teaching a control better than another? Two training seeds of one recipe can be 25 points
 * apart (docs/results.md), so one run of each says little. Given runs of two variants (A and B), one run per
 * training seed, this pairs them by seed and bootstraps the mean of B - A over the seeds: the seeds are what
 * varies between repeats, so they, not the images, are what is resampled. The drift checks are compared the
 * same way, since a variant that takes more often may also change more of what it should leave alone. `dualproc compare` prints it
 * (cli/commands/compare.ts `comparisonText`).
 */
import { bootstrapMean, bootstrapPairedDifference, type Interval } from "./bootstrap.js";

/** One evaluated run: its training seed and what its evaluation measured. */
export interface SeedResult {
  run: string;
  seed: number;
  /** What `success` is: the first measured control's label, else the held-out judge's score. */
  measure: string;
  /** Taught success (0-1). */
  success: number;
  /** Each drift check the evaluation could make: its label and the share of image pairs it changed in. */
  drift: readonly { label: string; rate: number }[];
}

/** One drift check compared over the paired seeds; lower is better. */
export interface DriftComparison {
  label: string;
  a: Interval;
  b: Interval;
  /** B - A: below 0 where B changes the check in fewer pairs. */
  difference: Interval;
  verdict: "B drifts less" | "A drifts less" | "no difference";
}

export interface SeedComparison {
  measure: string;
  /** Seeds both variants were taught at, in order. */
  pairs: { seed: number; a: number; b: number }[];
  /** Seeds only one variant has (not in the difference). */
  unpaired: { a: number[]; b: number[] };
  a: Interval;
  b: Interval;
  /** B - A over the paired seeds. */
  difference: Interval;
  verdict: "B better" | "A better" | "no difference";
  /** The drift checks every paired run measured, in A's first run's order. */
  drift: DriftComparison[];
}

/** The held-out judge stands in where a recipe has no measured control (results-table.ts does the same). */
const HELD_OUT_SCORE = "the held-out judge's score";

/** What `taughtSuccess` reads of an evaluation's summary (summary.ts `EvalSummary` has it). */
export interface TaughtMeasures {
  controls: readonly { label: string; taught: { mean: number } | null }[];
  judges: readonly { role: string; taught: { mean: number } | null }[];
}

/** A run's taught success and what it is, from its evaluation; null when it has neither measure. */
export function taughtSuccess(summary: TaughtMeasures): { measure: string; value: number } | null {
  const control = summary.controls[0];
  if (control) return control.taught ? { measure: control.label, value: control.taught.mean } : null;
  const heldOut = summary.judges.find((j) => j.role === "held-out")?.taught;
  return heldOut ? { measure: HELD_OUT_SCORE, value: heldOut.mean } : null;
}

export class ComparisonError extends Error {}

/** Pair A's and B's runs by training seed and compare them; a `ComparisonError` says why they cannot be. */
export function compareSeeds(a: readonly SeedResult[], b: readonly SeedResult[]): SeedComparison {
  const byA = bySeed(a, "A");
  const byB = bySeed(b, "B");
  const runsA = new Map(a.map((r) => [r.seed, r]));
  const runsB = new Map(b.map((r) => [r.seed, r]));
  const measures = new Set([...a, ...b].map((r) => r.measure));
  if (measures.size > 1) {
    throw new ComparisonError(
      `the runs measure different things (${[...measures].join("; ")}): compare runs of one control`,
    );
  }
  const seeds = [...byA.keys()].filter((s) => byB.has(s)).sort((x, y) => x - y);
  if (seeds.length < 2) {
    throw new ComparisonError(
      `${seeds.length === 0 ? "no training seed" : "only one training seed"} is shared by A and B; teach ` +
        "both at the same seeds (`dualproc teach RECIPE --seed N`), at least two, better four or more",
    );
  }
  const pairs = seeds.map((seed) => ({ seed, a: byA.get(seed)!, b: byB.get(seed)! }));
  const paired = seeds.map((seed) => [runsA.get(seed)!, runsB.get(seed)!] as const);
  const as = pairs.map((p) => p.a);
  const bs = pairs.map((p) => p.b);
  const difference = bootstrapPairedDifference(bs, as)!;
  return {
    measure: [...measures][0]!,
    pairs,
    unpaired: {
      a: [...byA.keys()].filter((s) => !byB.has(s)).sort((x, y) => x - y),
      b: [...byB.keys()].filter((s) => !byA.has(s)).sort((x, y) => x - y),
    },
    a: bootstrapMean(as)!,
    b: bootstrapMean(bs)!,
    difference,
    verdict: difference.low > 0 ? "B better" : difference.high < 0 ? "A better" : "no difference",
    drift: compareDrift(paired),
  };
}

/** Each drift check measured in every paired run, A against B, seed by seed as the success is. */
function compareDrift(paired: readonly (readonly [SeedResult, SeedResult])[]): DriftComparison[] {
  const rate = (r: SeedResult, label: string) => r.drift.find((d) => d.label === label)?.rate;
  const labels = paired[0]![0].drift.map((d) => d.label);
  return labels
    .filter((label) => paired.every(([x, y]) => rate(x, label) !== undefined && rate(y, label) !== undefined))
    .map((label) => {
      const as = paired.map(([x]) => rate(x, label)!);
      const bs = paired.map(([, y]) => rate(y, label)!);
      const difference = bootstrapPairedDifference(bs, as)!;
      return {
        label,
        a: bootstrapMean(as)!,
        b: bootstrapMean(bs)!,
        difference,
        verdict:
          difference.high < 0 ? "B drifts less" : difference.low > 0 ? "A drifts less" : "no difference",
      };
    });
}

function bySeed(results: readonly SeedResult[], side: string): Map<number, number> {
  const seeds = new Map<number, number>();
  for (const r of results) {
    if (seeds.has(r.seed)) {
      const twins = results.filter((o) => o.seed === r.seed).map((o) => o.run);
      throw new ComparisonError(`${side} has two runs at training seed ${r.seed}: ${twins.join(", ")}`);
    }
    seeds.set(r.seed, r.success);
  }
  return seeds;
}
