/** dualproc teach --judge / --heldout-judge: another judge pair than the recipe's, recorded in the run. */
import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withJudges } from "../../src/cli/commands/teach.js";
import { main } from "../../src/cli/main.js";
import type { CliIO } from "../../src/cli/io.js";
import { parseRecipe } from "../../src/recipes/load.js";

const RECIPE = `name: judges
prompts: ["a sunny landscape"]
questions: [{ question: "Is it sunny?" }]
`;

describe("teach with other judges", () => {
  const resolved = parseRecipe(RECIPE);

  it("keeps the recipe's judges when none are given", () => {
    const same = withJudges(resolved, {});
    expect([same.recipe.judge, same.recipe.heldout_judge]).toEqual(["scenes-judge", "scenes-judge-heldout"]);
  });

  it("puts the given judges in the recipe the run records", () => {
    const other = withJudges(resolved, { judge: "/judges/round-6", heldoutJudge: "/judges/round-6-heldout" });
    expect([other.recipe.judge, other.recipe.heldout_judge]).toEqual([
      "/judges/round-6",
      "/judges/round-6-heldout",
    ]);
    expect(resolved.recipe.judge).toBe("scenes-judge"); // the loaded recipe is not changed
  });

  it("refuses a held-out judge that is the training judge", () => {
    expect(() => withJudges(resolved, { judge: "scenes-judge-heldout" })).toThrow(/is the training judge/);
  });

  it("refuses new judges for a resumed run, in one line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "teach-judges-"));
    writeFileSync(join(dir, "recipe.yaml"), RECIPE);
    let err = "";
    const cli: CliIO = { out: () => {}, err: (t) => (err += t), errIsTTY: false };
    const code = await main(["teach", "--resume", dir, "--judge", "x"], cli);
    expect(code).not.toBe(0);
    expect(err).toMatch(/keeps its own judges/);
  });
});
