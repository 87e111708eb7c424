/**
 * dualproc teach --generator / --judge / --heldout-judge / --seed: other models or training seed than the
 * recipe's, recorded in the run.
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withOverrides } from "../../src/cli/commands/teach.js";
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
    const same = withOverrides(resolved, {});
    expect([same.recipe.generator, same.recipe.judge, same.recipe.heldout_judge]).toEqual([
      "scenes-generator",
      "scenes-judge",
      "scenes-judge-heldout",
    ]);
  });

  it("puts the given generator in the recipe the run records", () => {
    const other = withOverrides(resolved, { generator: "/generators/band-round-2" });
    expect([other.recipe.generator, other.recipe.judge]).toEqual([
      "/generators/band-round-2",
      "scenes-judge",
    ]);
    expect(resolved.recipe.generator).toBe("scenes-generator");
  });

  it("puts the given judges in the recipe the run records", () => {
    const other = withOverrides(resolved, {
      judge: "/judges/round-6",
      heldoutJudge: "/judges/round-6-heldout",
    });
    expect([other.recipe.judge, other.recipe.heldout_judge]).toEqual([
      "/judges/round-6",
      "/judges/round-6-heldout",
    ]);
    expect(resolved.recipe.judge).toBe("scenes-judge"); // the loaded recipe is not changed
  });

  it("refuses a held-out judge that is the training judge", () => {
    expect(() => withOverrides(resolved, { judge: "scenes-judge-heldout" })).toThrow(/is the training judge/);
  });

  it("refuses a held-out judge that teaches as one of the co_judges", () => {
    const co = parseRecipe(`${RECIPE}co_judges: [other-judge]\n`);
    expect(() => withOverrides(co, { heldoutJudge: "other-judge" })).toThrow(/is one of the co_judges/);
  });

  it("refuses a held-out judge that the keep questions were asked of", () => {
    const kept = parseRecipe(`${RECIPE}keep: [{question: Is it night-time?}]\nkeep_judge: other-judge\n`);
    expect(() => withOverrides(kept, { heldoutJudge: "other-judge" })).toThrow(/is the keep_judge/);
    const unused = parseRecipe(`${RECIPE}keep_judge: other-judge\n`); // no keep questions: it asks nothing
    expect(withOverrides(unused, { heldoutJudge: "other-judge" }).recipe.heldout_judge).toBe("other-judge");
  });

  it("puts the given training seed in the recipe the run records, and nothing else", () => {
    const other = withOverrides(resolved, { seed: 3 });
    expect(other.recipe.training.seed).toBe(3);
    expect({ ...other.recipe.training, seed: 0 }).toEqual(resolved.recipe.training);
    expect(resolved.recipe.training.seed).toBe(0);
    expect(withOverrides(resolved, {}).recipe.training.seed).toBe(0);
  });

  it("refuses a seed that is not a whole number from 0, in one line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "teach-seed-"));
    const file = join(dir, "recipe.yaml");
    writeFileSync(file, RECIPE);
    for (const seed of ["-1", "1.5", "x"]) {
      let err = "";
      const cli: CliIO = { out: () => {}, err: (t) => (err += t), errIsTTY: false };
      expect(await main(["teach", file, "--seed", seed, "--out", join(dir, "run")], cli)).not.toBe(0);
      expect(err).toMatch(/--seed.*expected an integer from 0/);
      expect(err.trim().split("\n")).toHaveLength(1);
    }
  });

  it("refuses new models or a new seed for a resumed run, in one line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "teach-judges-"));
    writeFileSync(join(dir, "recipe.yaml"), RECIPE);
    let err = "";
    const cli: CliIO = { out: () => {}, err: (t) => (err += t), errIsTTY: false };
    for (const [flag, value] of [
      ["--generator", "x"],
      ["--judge", "x"],
      ["--seed", "2"],
    ]) {
      err = "";
      const code = await main(["teach", "--resume", dir, flag!, value!], cli);
      expect(code).not.toBe(0);
      expect(err).toMatch(/keeps its own models/);
    }
  });
});
