import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { capture } from "./capture.js";

const LABEL = "stroke width 2 px at 64 px (+-0.5)";

/** A teach run folder at a training seed, evaluated with this taught success (none: not evaluated). */
function run(root: string, name: string, seed: number, success?: number): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "recipe.yaml"), "name: line-weight\n");
  writeFileSync(join(dir, "run.json"), JSON.stringify({ params: { recipe: { training: { seed } } } }));
  if (success !== undefined) evaluated(dir, "eval", success);
  return dir;
}

/** An evaluation of the run in `dir` (eval, or eval-step-N for a checkpoint's) with this taught success. */
function evaluated(dir: string, folder: string, success: number): void {
  mkdirSync(join(dir, folder), { recursive: true });
  const summary = {
    controls: [{ label: LABEL, taught: { mean: success, low: 0, high: 1, n: 32 } }],
    judges: [{ role: "held-out", taught: { mean: 0.5, low: 0, high: 1, n: 32 } }],
    drift: [
      {
        attribute: "palette",
        label: "palette changed",
        rate: { mean: success / 2, low: 0, high: 1, n: 32 },
      },
      { attribute: "sky", label: "sky kind changed", rate: null }, // not measured: no row
    ],
  };
  writeFileSync(join(dir, folder, "summary.json"), JSON.stringify(summary));
}

describe("dualproc compare", () => {
  it("pairs A's and B's runs by training seed and says whether B is better", async () => {
    const root = mkdtempSync(join(tmpdir(), "dualproc-compare-"));
    const a = [0.5, 0.6, 0.4, 0.55].map((s, seed) => run(root, `a${seed}`, seed, s));
    const b = [0.7, 0.8, 0.6, 0.75].map((s, seed) => run(root, `b${seed}`, seed, s));
    const io = capture();
    expect(await main(["compare", ...a, "--vs", ...b.reverse()], io)).toBe(0);
    const out = io.stdout();
    expect(out).toContain(`${LABEL}, taught success by training seed:`);
    expect(out).toContain("0     50.0%  70.0%  +20.0");
    expect(out).toMatch(/B - A \+20\.0 \[\+20\.0, \+20\.0\] points/);
    expect(out).toContain("B is better");
    expect(out).toMatch(/palette changed +25\.6% .* +35\.6% .* +\+10\.0 \[\+10\.0, \+10\.0\] +A drifts less/);
    expect(out).not.toContain("sky kind changed");

    const json = capture();
    expect(await main(["compare", ...a, "--vs", ...b, "--json"], json)).toBe(0);
    expect((JSON.parse(json.stdout()) as { verdict: string }).verdict).toBe("B better");
  });

  it("compares the runs' checkpoints at a step (--vs-step) with their final LoRAs", async () => {
    const root = mkdtempSync(join(tmpdir(), "dualproc-compare-"));
    const runs = [0.8, 0.9, 0.85, 0.7].map((s, seed) => run(root, `r${seed}`, seed, s));
    runs.forEach((dir, seed) => evaluated(dir, "eval-step-100", [0.5, 0.6, 0.55, 0.4][seed]!));
    const io = capture();
    expect(await main(["compare", ...runs, "--vs", ...runs, "--vs-step", "100"], io)).toBe(0);
    expect(io.stdout()).toContain("0     80.0%  50.0%  -30.0");
    expect(io.stdout()).toContain("A is better");
    const flipped = capture();
    expect(await main(["compare", ...runs, "--step", "100", "--vs", ...runs], flipped)).toBe(0);
    expect(flipped.stdout()).toContain("B is better");
    const missing = capture();
    expect(await main(["compare", ...runs, "--vs", ...runs, "--vs-step", "50"], missing)).toBe(2);
    expect(missing.stderr()).toMatch(
      /r0: not evaluated at step 50 yet \(dualproc eval .*r0 --checkpoint 50\)/,
    );
  });

  it("compares the runs' LoRAs at another adapter scale (--vs-scale) with the trained one", async () => {
    const root = mkdtempSync(join(tmpdir(), "dualproc-compare-"));
    const runs = [0.8, 0.9, 0.85, 0.7].map((s, seed) => run(root, `r${seed}`, seed, s));
    runs.forEach((dir, seed) => evaluated(dir, "eval-scale-0.7", [0.75, 0.9, 0.8, 0.7][seed]!));
    const io = capture();
    expect(await main(["compare", ...runs, "--vs", ...runs, "--vs-scale", "0.7"], io)).toBe(0);
    expect(io.stdout()).toContain("0     80.0%  75.0%  -5.0");
    expect(io.stdout()).toMatch(/palette changed +40\.6% .* +39\.4% /); // the weaker LoRA drifts less
    const missing = capture();
    expect(await main(["compare", ...runs, "--vs", ...runs, "--vs-scale", "0.5"], missing)).toBe(2);
    expect(missing.stderr()).toMatch(/r0: not evaluated at scale 0.5 yet \(dualproc eval .*r0 --scale 0.5\)/);
  });

  it("says in one line what keeps runs from being compared", async () => {
    const root = mkdtempSync(join(tmpdir(), "dualproc-compare-"));
    const a = [run(root, "a0", 0, 0.5), run(root, "a1", 1, 0.6)];
    const cases: [string[], RegExp][] = [
      [[...a, "--vs", run(root, "pending", 0)], /pending: not evaluated yet \(dualproc eval .*pending\)/],
      [[...a, "--vs", root], /not a teach run folder/],
      [[...a, "--vs", run(root, "b5", 5, 0.5), run(root, "b6", 6, 0.5)], /no training seed is shared/],
      [
        [...a, "--vs", run(root, "b0", 0, 0.5), run(root, "b0again", 0, 0.4)],
        /B has two runs at training seed 0/,
      ],
    ];
    for (const [args, message] of cases) {
      const io = capture();
      expect(await main(["compare", ...args], io)).toBe(2);
      expect(io.stderr().trim().split("\n")).toHaveLength(1);
      expect(io.stderr()).toMatch(message);
    }
  });
});
