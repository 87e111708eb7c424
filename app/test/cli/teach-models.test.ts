/** dualproc teach --generator / --judge / --heldout-judge: other models than the recipe's, recorded in the run. */
import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withModels } from "../../src/cli/commands/teach.js";
import { main } from "../../src/cli/main.js";
import type { CliIO } from "../../src/cli/io.js";
import { parseRecipe } from "../../src/recipes/load.js";

const RECIPE = `name: judges
prompts: ["a sunny landscape"]
questions: [{ question: "Is it sunny?" }]
`;

describe("teach with other models", () => {
  const resolved = parseRecipe(RECIPE);

  it("keeps the recipe's models when none are given", () => {
    const same = withModels(resolved, {});
    expect([same.recipe.generator, same.recipe.judge, same.recipe.heldout_judge]).toEqual([
      "scenes-generator",
      "scenes-judge",
      "scenes-judge-heldout",
    ]);
  });

  it("puts the given generator in the recipe the run records", () => {
    const other = withModels(resolved, { generator: "/generators/band-round-2" });
    expect([other.recipe.generator, other.recipe.judge]).toEqual([
      "/generators/band-round-2",
      "scenes-judge",
    ]);
    expect(resolved.recipe.generator).toBe("scenes-generator");
  });

  it("puts the given judges in the recipe the run records", () => {
    const other = withModels(resolved, { judge: "/judges/round-6", heldoutJudge: "/judges/round-6-heldout" });
    expect([other.recipe.judge, other.recipe.heldout_judge]).toEqual([
      "/judges/round-6",
      "/judges/round-6-heldout",
    ]);
    expect(resolved.recipe.judge).toBe("scenes-judge"); // the loaded recipe is not changed
  });

  it("refuses a held-out judge that is the training judge", () => {
    expect(() => withModels(resolved, { judge: "scenes-judge-heldout" })).toThrow(/is the training judge/);
  });

  it("refuses new models for a resumed run, in one line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "teach-judges-"));
    writeFileSync(join(dir, "recipe.yaml"), RECIPE);
    let err = "";
    const cli: CliIO = { out: () => {}, err: (t) => (err += t), errIsTTY: false };
    for (const flag of ["--generator", "--judge"]) {
      err = "";
      const code = await main(["teach", "--resume", dir, flag, "x"], cli);
      expect(code).not.toBe(0);
      expect(err).toMatch(/keeps its own models/);
    }
  });
});
