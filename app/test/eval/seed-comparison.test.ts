import { describe, expect, it } from "vitest";
import { comparisonText } from "../../src/cli/commands/compare.js";
import {
  ComparisonError,
  compareSeeds,
  taughtSuccess,
  type SeedResult,
} from "../../src/eval/seed-comparison.js";

const STROKE = "stroke width 2 px at 64 px (+-0.5)";

const PALETTE = "palette distance above 10 CIEDE2000";
const OBJECTS = "number of objects found changed";

function runs(
  name: string,
  successes: Record<number, number>,
  measure = STROKE,
  drift: (seed: number) => { label: string; rate: number }[] = () => [],
): SeedResult[] {
  return Object.entries(successes).map(([seed, success]) => ({
    run: `${name}-s${seed}`,
    seed: Number(seed),
    measure,
    success,
    drift: drift(Number(seed)),
  }));
}

describe("comparing two ways of teaching over training seeds", () => {
  it("finds B better when it wins at every seed however far apart the seeds are", () => {
    const a = runs("a", { 0: 0.3, 1: 0.7, 2: 0.5, 3: 0.4 });
    const b = runs("b", { 0: 0.4, 1: 0.8, 2: 0.6, 3: 0.5 });
    const c = compareSeeds(a, b);
    expect(c.difference.mean).toBeCloseTo(0.1, 12);
    expect(c.difference.low).toBeCloseTo(0.1, 12); // pairing removes the seeds' own spread
    expect(c.verdict).toBe("B better");
    expect(compareSeeds(b, a).verdict).toBe("A better");
  });

  it("says no difference when the seeds' noise covers the gap", () => {
    const a = runs("a", { 0: 0.56, 1: 0.75, 2: 0.62, 3: 0.38 });
    const b = runs("b", { 0: 0.84, 1: 0.56, 2: 0.59, 3: 0.75 });
    const c = compareSeeds(a, b);
    expect(c.difference.low).toBeLessThan(0);
    expect(c.difference.high).toBeGreaterThan(0);
    expect(c.verdict).toBe("no difference");
    expect(comparisonText(c)).toContain("differ by less than the training seeds' noise");
  });

  it("pairs by seed, leaving out and naming seeds only one side has", () => {
    const a = runs("a", { 3: 0.5, 0: 0.2, 1: 0.3, 7: 0.9 });
    const b = runs("b", { 1: 0.4, 0: 0.3, 3: 0.6, 5: 0.1 });
    const c = compareSeeds(a, b);
    expect(c.pairs.map((p) => p.seed)).toEqual([0, 1, 3]);
    expect(c.unpaired).toEqual({ a: [7], b: [5] });
    expect(c.a.mean).toBeCloseTo(1 / 3, 12);
    const text = comparisonText(c);
    expect(text).toContain("A alone at seeds 7; B alone at seeds 5");
    expect(text.split("\n")[2]).toBe("0     20.0%  30.0%  +10.0");
  });

  it("compares each drift check every paired run measured, lower being better", () => {
    const a = runs("a", { 0: 0.5, 1: 0.6, 2: 0.4, 3: 0.5 }, STROKE, (seed) => [
      { label: PALETTE, rate: 0.8 + 0.05 * seed },
      { label: OBJECTS, rate: 0.6 },
    ]);
    const b = runs("b", { 0: 0.5, 1: 0.6, 2: 0.4, 3: 0.5 }, STROKE, (seed) => [
      { label: PALETTE, rate: 0.5 + 0.05 * seed },
      ...(seed === 2 ? [] : [{ label: OBJECTS, rate: 0.2 }]), // not measured at one seed: left out
    ]);
    const c = compareSeeds(a, b);
    expect(c.verdict).toBe("no difference");
    expect(c.drift.map((d) => d.label)).toEqual([PALETTE]);
    expect(c.drift[0]!.difference.mean).toBeCloseTo(-0.3, 12);
    expect(c.drift[0]!.verdict).toBe("B drifts less");
    expect(compareSeeds(b, a).drift[0]!.verdict).toBe("A drifts less");
    const text = comparisonText(c);
    expect(text).toContain("drift, share of image pairs changed (lower is better");
    expect(text).toMatch(
      /palette distance above 10 CIEDE2000 +87\.5% .*57\.5% .* -30\.0 \[-30\.0, -30\.0\] +B drifts less/,
    );
    expect(
      comparisonText(compareSeeds(runs("a", { 0: 0.1, 1: 0.2 }), runs("b", { 0: 0.1, 1: 0.2 }))),
    ).not.toContain("drift");
  });

  it("refuses runs it cannot pair: other controls, a seed twice, fewer than two shared seeds", () => {
    const a = runs("a", { 0: 0.5, 1: 0.5 });
    expect(() => compareSeeds(a, runs("b", { 0: 0.5, 1: 0.6 }, "palette"))).toThrow(
      /measure different things/,
    );
    expect(() => compareSeeds([...a, ...runs("again", { 1: 0.2 })], a)).toThrow(
      /A has two runs at training seed 1: a-s1, again-s1/,
    );
    expect(() => compareSeeds(a, runs("b", { 1: 0.5, 2: 0.5 }))).toThrow(ComparisonError);
    expect(() => compareSeeds(a, runs("b", { 2: 0.5, 3: 0.5 }))).toThrow(/no training seed is shared/);
  });
});

describe("a run's taught success", () => {
  const judges = [
    { role: "training", taught: { mean: 0.9 } },
    { role: "held-out", taught: { mean: 0.6 } },
  ];

  it("is the first measured control's, else the held-out judge's score", () => {
    const controls = [
      { label: STROKE, taught: { mean: 0.7 } },
      { label: "not stroke width 1 px", taught: { mean: 0.2 } },
    ];
    expect(taughtSuccess({ controls, judges })).toEqual({ measure: STROKE, value: 0.7 });
    expect(taughtSuccess({ controls: [], judges })).toEqual({
      measure: "the held-out judge's score",
      value: 0.6,
    });
    expect(taughtSuccess({ controls: [{ label: STROKE, taught: null }], judges })).toBeNull();
  });
});
