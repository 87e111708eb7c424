/** scripts/results-table.ts: the taught success over training seeds, from sibling runs RUN-seed-N. */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { judgesRight, overSeeds } from "../../scripts/results-table.js";
import type { JudgeCheck } from "../../src/eval/judge-check.js";

/** A finished, evaluated run folder whose measured control took in `taught` of the images. */
function run(dir: string, name: string, taught: number | null, seed = 0, verdict = "took"): string {
  const folder = join(dir, name);
  mkdirSync(join(folder, "eval"), { recursive: true });
  const controls =
    taught === null ? [] : [{ label: "x", base: { mean: 0 }, taught: { mean: taught, low: 0, high: 1 } }];
  const judges = [{ role: "held-out", judge: "h", base: { mean: 0.1 }, taught: { mean: 0.4 } }];
  writeFileSync(
    join(folder, "eval", "summary.json"),
    JSON.stringify({ controls, judges, drift: [], verdict }),
  );
  writeFileSync(join(folder, "run.json"), JSON.stringify({ params: { recipe: { training: { seed } } } }));
  return folder;
}

describe("results table over training seeds", () => {
  it("says one seed when the recipe was taught at its own seed only", () => {
    const dir = mkdtempSync(join(tmpdir(), "results-"));
    expect(overSeeds(run(dir, "line-weight", 0.625))).toBe("one seed");
  });

  it("averages the run and its evaluated seed siblings (the run first, then by seed), ignoring other folders", () => {
    const dir = mkdtempSync(join(tmpdir(), "results-"));
    const main = run(dir, "line-weight", 0.5);
    run(dir, "line-weight-seed-10", 0.75);
    run(dir, "line-weight-seed-2", 1.0, 0, "probable_hacking");
    run(dir, "line-weight-2", 0.0); // another recipe's folder, not a seed of this one
    run(dir, "line-weight-seed-x", 0.0); // not a seed
    mkdirSync(join(dir, "line-weight-seed-3")); // not evaluated (yet)
    expect(overSeeds(main)).toBe("75.0% (50.0-100.0; seeds 0, 2, 10; took 2, probable_hacking 1)");
  });

  it("uses the held-out judge's score where no measurer applies", () => {
    const dir = mkdtempSync(join(tmpdir(), "results-"));
    const main = run(dir, "relative-depth", null, 4);
    run(dir, "relative-depth-seed-1", null);
    expect(overSeeds(main)).toBe("40.0% (40.0-40.0; seeds 4, 1; took 2)");
  });

  it("gives each judge's share right on renders, the co-judges after the held-out judge", () => {
    const check = (judge: string, role: JudgeCheck["role"], right: number, question = "q"): JudgeCheck => ({
      judge,
      role,
      question,
      renders: { pass: 40, fail: 50 },
      on_pass: null,
      on_fail: null,
      right: { mean: right, low: right - 0.1, high: right + 0.1, n: 90 },
    });
    const alone = [check("a", "training", 0.441), check("h", "held-out", 0.48)];
    expect(judgesRight({ judge_checks: alone })).toBe("44.1% / 48.0%");
    const coTaught = [
      check("a", "training", 0.441),
      check("c", "co-judge", 0.61),
      check("c", "co-judge", 0.9, "another question"),
      check("h", "held-out", 0.48),
    ];
    expect(judgesRight({ judge_checks: coTaught })).toBe("44.1% / 48.0%; co-judge c 61.0%");
    expect(judgesRight({ judge_checks: [] })).toBe("n/a / n/a");
  });
});
