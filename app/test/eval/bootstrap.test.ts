import { describe, expect, it } from "vitest";
import { bootstrapMean, bootstrapPairedDifference, clearlyAbove } from "../../src/eval/bootstrap.js";
import { mulberry32 } from "../../src/eval/measurers/random.js";

describe("bootstrap intervals", () => {
  it("are exact for constant values and empty for no values", () => {
    const constant = bootstrapMean([0.4, 0.4, 0.4])!;
    for (const v of [constant.mean, constant.low, constant.high]) expect(v).toBeCloseTo(0.4, 12);
    expect(constant.n).toBe(3);
    expect(bootstrapMean([])).toBeNull();
  });

  it("cover a fair coin's rate with about the binomial width, the same every time", () => {
    const random = mulberry32(7);
    const flips = Array.from({ length: 400 }, () => (random() < 0.5 ? 1 : 0));
    const a = bootstrapMean(flips)!;
    expect(a.low).toBeLessThan(a.mean);
    expect(a.high).toBeGreaterThan(a.mean);
    // 95% half-width of a proportion near 0.5 from 400 draws: 1.96 * 0.025 = 0.049
    expect(a.high - a.low).toBeGreaterThan(0.07);
    expect(a.high - a.low).toBeLessThan(0.13);
    expect(bootstrapMean(flips)).toEqual(a);
  });

  it("pair values: a constant shift is found exactly whatever the spread between pairs", () => {
    const before = [0.1, 0.9, 0.3, 0.7, 0.5];
    const after = before.map((b) => b + 0.05);
    const d = bootstrapPairedDifference(after, before)!;
    expect(d.mean).toBeCloseTo(0.05, 12);
    expect(d.low).toBeCloseTo(0.05, 12);
    expect(clearlyAbove(d, 0)).toBe(true);
    expect(clearlyAbove(d, 0.05)).toBe(false); // a sure rise, but not above the least gain asked for
    expect(clearlyAbove(d, 0.04)).toBe(true);
    expect(clearlyAbove(bootstrapPairedDifference(before, before), 0)).toBe(false);
    expect(() => bootstrapPairedDifference([1], [1, 2])).toThrow(/equal numbers/);
  });
});
