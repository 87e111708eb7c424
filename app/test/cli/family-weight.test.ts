import { describe, expect, it } from "vitest";
import { parseFamilyWeight } from "../../src/cli/commands/world/train.js";

describe("world train-judge --family-weight", () => {
  it("collects FAMILY=FACTOR pairs, a later one for the same family winning", () => {
    const once = parseFamilyWeight("relative_depth=10");
    expect(once).toEqual({ relative_depth: 10 });
    expect(parseFamilyWeight("sky=0.5", once)).toEqual({ relative_depth: 10, sky: 0.5 });
    expect(parseFamilyWeight("relative_depth=2.5e1", once)).toEqual({ relative_depth: 25 });
  });

  it("refuses a missing, zero or unbounded factor in one line", () => {
    for (const bad of ["relative_depth", "relative_depth=", "relative_depth=0", "=3", "sky=1001", "sky=-1"]) {
      expect(() => parseFamilyWeight(bad)).toThrow(/expected FAMILY=FACTOR/);
    }
  });
});
