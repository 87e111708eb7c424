/**
 * Percentile bootstrap confidence intervals, seeded so that a report says the same thing every time it is
 * regenerated from the same numbers.
 */

import { mulberry32 } from "./measurers/random.js";

/** A mean and its confidence interval; `n` is the number of values it came from. */
export interface Interval {
  mean: number;
  low: number;
  high: number;
  n: number;
}

export interface BootstrapOptions {
  resamples?: number;
  /** Two-sided coverage, e.g. 0.95. */
  level?: number;
  seed?: number;
}

function mean(values: readonly number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/** The mean of `values` with a percentile bootstrap interval; null when there are no values. */
export function bootstrapMean(values: readonly number[], options: BootstrapOptions = {}): Interval | null {
  return bootstrapMeanOfGroups([values], options);
}

/**
 * The mean of the groups' means, each group resampled on its own (a stratified bootstrap): e.g. a balanced
 * accuracy over images that should pass and images that should fail, whatever their numbers. Null when a
 * group is empty.
 */
export function bootstrapMeanOfGroups(
  groups: readonly (readonly number[])[],
  options: BootstrapOptions = {},
): Interval | null {
  if (groups.length === 0 || groups.some((g) => g.length === 0)) return null;
  const { resamples = 2000, level = 0.95, seed = 0 } = options;
  const random = mulberry32(seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let total = 0;
    for (const values of groups) {
      let sum = 0;
      for (let i = 0; i < values.length; i++) sum += values[Math.floor(random() * values.length)] as number;
      total += sum / values.length;
    }
    means[r] = total / groups.length;
  }
  means.sort();
  const tail = (1 - level) / 2;
  const at = (q: number) => means[Math.min(resamples - 1, Math.max(0, Math.floor(q * resamples)))] as number;
  const n = groups.reduce((s, g) => s + g.length, 0);
  return {
    mean: groups.reduce((s, g) => s + mean(g), 0) / groups.length,
    low: at(tail),
    high: at(1 - tail),
    n,
  };
}

/**
 * The mean of after[i] - before[i] over pairs (the same prompt and seed, with and without the LoRA), with
 * its interval: pairing removes the variation between seeds, so a real change shows with fewer images.
 */
export function bootstrapPairedDifference(
  after: readonly number[],
  before: readonly number[],
  options: BootstrapOptions = {},
): Interval | null {
  if (after.length !== before.length) throw new Error("paired values must come in equal numbers");
  return bootstrapMean(
    after.map((a, i) => a - (before[i] as number)),
    options,
  );
}

/**
 * Whether the interval lies wholly above `least`: a rise that is not noise at this level and is big enough
 * to matter. With `least` 0 a judge whose score moves by half a point on hundreds of answers "rose".
 */
export function clearlyAbove(interval: Interval | null, least: number): boolean {
  return interval !== null && interval.low > least;
}
