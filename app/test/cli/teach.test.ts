/** dualproc teach and generate --lora end to end on the shipped embedded models (a few steps). */
import { describe, expect, it } from "vitest";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { main } from "../../src/cli/main.js";
import { evalDir } from "../../src/runs/lora.js";
import type { CliIO } from "../../src/cli/io.js";

const RECIPE = `name: tiny-horizon
prompts: ["a sunny landscape with trees", "a night landscape with a house"]
questions:
  - question: Is the red line aligned with the horizon?
    visual_prompt: { kind: horizon, y: 0.3 }
eval: { prompts: ["a beach at dusk"], seeds: [0, 1], lora_scales: [0, 1] }
training: { resolution_px: 64, max_train_steps: 3, checkpointing_steps: 2, train_batch_size: 2,
  noise_pool_size: 4, learning_rate: 1.0e-3, lora_rank: 4, lora_alpha: 4, lora_scale: 1 }
`;

/** This process's child processes still running (engine workers are its children). */
function engineChildren(): string[] {
  const out = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], { encoding: "utf8" });
  return out
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.includes("ps -o"));
}

function capture() {
  const io = { out: "", err: "" };
  const cli: CliIO = { out: (t) => (io.out += t), err: (t) => (io.err += t), errIsTTY: false };
  return { io, cli };
}

describe("teach, then generate with the taught LoRA", () => {
  it("starts over in a run folder the engine turned down before training, once the recipe is fixed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "teach-"));
    const recipe = join(dir, "recipe.yaml");
    // an answer the Scenes judge never learned: only the engine finds it, after the run folder exists
    writeFileSync(recipe, RECIPE.replace("y: 0.3 }", "y: 0.3 }\n    answer: yes"));
    const run = join(dir, "run");
    const first = capture();
    expect(await main(["teach", recipe, "--out", run, "-q", "--no-eval"], first.cli)).not.toBe(0);
    expect(first.io.err).toContain(
      "the answer to 'Is the red line aligned with the horizon?' is 'yes': a Scenes judge was trained to answer only Yes or No",
    );
    const state = JSON.parse(readFileSync(join(run, "run.json"), "utf8")) as { status: string };
    expect(state.status).toBe("failed");

    writeFileSync(recipe, RECIPE.replace("max_train_steps: 3", "max_train_steps: 1"));
    const fixed = capture();
    expect(await main(["teach", recipe, "--out", run, "-q", "--no-eval"], fixed.cli)).toBe(0);
    expect(existsSync(join(run, "pytorch_lora_weights.safetensors"))).toBe(true);
    const events = readFileSync(join(run, "events.jsonl"), "utf8");
    expect(events).not.toContain("cannot encode"); // the turned-down run's events are gone, not mixed in
    expect(readFileSync(join(run, "recipe.yaml"), "utf8")).not.toContain("zebra");
  });

  it("writes a complete run folder and a LoRA that generate fuses in", async () => {
    const dir = mkdtempSync(join(tmpdir(), "teach-"));
    writeFileSync(join(dir, "recipe.yaml"), RECIPE);
    const run = join(dir, "run");
    const teach = capture();
    expect(await main(["teach", join(dir, "recipe.yaml"), "--out", run, "-q"], teach.cli)).toBe(0);
    for (const file of [
      "recipe.yaml",
      "run.json",
      "events.jsonl",
      "metrics.jsonl",
      "report.md",
      "score-curve.svg",
    ]) {
      expect(existsSync(join(run, file)), file).toBe(true);
    }
    expect(teach.io.out).toContain(`LoRA: ${join(run, "pytorch_lora_weights.safetensors")}`);
    const state = JSON.parse(readFileSync(join(run, "run.json"), "utf8")) as { status: string };
    expect(state.status).toBe("succeeded");
    expect(readFileSync(join(run, "metrics.jsonl"), "utf8").trim().split("\n")).toHaveLength(3);

    // teach ends with the held-out evaluation: paired images, both judges, measurers, a verdict
    expect(teach.io.out).toMatch(/verdict: The training judge/);
    expect(teach.io.out).toContain(`eval report: ${join(run, "eval", "report.html")}`);
    const summary = JSON.parse(readFileSync(join(run, "eval", "summary.json"), "utf8")) as {
      pairs: number;
      judges: { judge: string; role: string }[];
      controls: { attribute: string }[];
      drift: { attribute: string; floor: { mean: number; n: number } | null }[];
      judge_checks: {
        judge: string;
        question: string;
        renders: { pass: number; fail: number };
        right: { mean: number };
      }[];
      verdict: string;
    };
    expect(summary.pairs).toBe(16); // 1 eval prompt x 16 held-out seeds
    expect(summary.judges.map((j) => [j.judge, j.role])).toEqual([
      ["scenes-judge", "training"],
      ["scenes-judge-heldout", "held-out"],
    ]);
    expect(summary.controls.map((c) => c.attribute)).toEqual(["horizon"]);
    // the drift floor: rendered twins with only the horizon moved, measured by the same checks
    const sky = summary.drift.find((d) => d.attribute === "sky")!;
    expect(sky.floor!.n).toBeGreaterThan(40); // 48 landscapes, a few without a readable sky
    expect(sky.floor!.mean).toBe(0); // moving the horizon never changes the sky kind of a render
    expect(existsSync(join(run, "eval", "floor", "control", "attributes.jsonl"))).toBe(true);
    // each judge asked the recipe's question about those renders, whose answer the horizon measurer knows:
    // the shipped judges tell a red line on a rendered horizon from one off it
    expect(summary.judge_checks.map((c) => [c.judge, c.question])).toEqual([
      ["scenes-judge", "Is the red line aligned with the horizon?"],
      ["scenes-judge-heldout", "Is the red line aligned with the horizon?"],
    ]);
    for (const check of summary.judge_checks) {
      expect(check.renders.pass).toBeGreaterThan(40); // the twins, horizon at 30%
      expect(check.renders.fail).toBeGreaterThan(30); // most plain landscapes
      expect(check.right.mean).toBeGreaterThan(0.75);
    }
    expect(["took", "took_in_part", "probable_hacking", "inconclusive", "no_gain"]).toContain(
      summary.verdict,
    );

    // the LoRA as it was at a checkpoint (every 2 steps and the last), evaluated into a folder of its own; a step it does not keep, refused
    const atStep = capture();
    expect(await main(["eval", run, "--checkpoint", "2", "--seeds", "2", "-q"], atStep.cli)).toBe(0);
    expect(readFileSync(join(run, "eval-step-2", "report.md"), "utf8")).toMatch(
      /^# Evaluation: .*, at step 2\n/,
    );
    const stepSummary = JSON.parse(readFileSync(join(run, "eval-step-2", "summary.json"), "utf8")) as {
      pairs: number;
    };
    expect(stepSummary.pairs).toBe(2);
    const own = JSON.parse(readFileSync(join(run, "eval", "summary.json"), "utf8")) as { pairs: number };
    expect(own.pairs).toBe(16); // the run's own evaluation is left as it was
    // a weaker LoRA (another adapter scale) into a folder of its own; the trained scale into the run's own
    const atScale = capture();
    expect(await main(["eval", run, "--scale", "0.5", "--seeds", "2", "-q"], atScale.cli)).toBe(0);
    const scaled = JSON.parse(readFileSync(join(run, "eval-scale-0.5", "summary.json"), "utf8")) as {
      pairs: number;
      taught_scale: number;
    };
    expect([scaled.pairs, scaled.taught_scale]).toEqual([2, 0.5]);
    expect(evalDir(run, undefined, 1)).toBe(join(run, "eval")); // the recipe trains at scale 1
    expect(evalDir(run, 2, 0.5)).toBe(join(run, "eval-step-2-scale-0.5"));
    const ownAgain = JSON.parse(readFileSync(join(run, "eval", "summary.json"), "utf8")) as { pairs: number };
    expect(ownAgain.pairs).toBe(16);
    const noStep = capture();
    expect(await main(["eval", run, "--checkpoint", "1"], noStep.cli)).toBe(2);
    expect(noStep.io.err).toContain("no checkpoint at step 1; it keeps steps 2, 3");

    const again = capture();
    expect(await main(["teach", join(dir, "recipe.yaml"), "--out", run], again.cli)).toBe(2);
    expect(again.io.err).toContain("already holds a run; use --resume");

    // An evaluation that fails (a LoRA file that is not one) stops the drift floor it started beside it, and
    // returns its one-line error only once the floor's worker is gone.
    const broken = join(dir, "broken-run");
    mkdirSync(broken);
    copyFileSync(join(run, "recipe.yaml"), join(broken, "recipe.yaml"));
    writeFileSync(join(broken, "pytorch_lora_weights.safetensors"), "not a safetensors file");
    const failed = capture();
    expect(await main(["eval", broken], failed.cli)).toBe(1);
    expect(failed.io.err).toContain("not a safetensors LoRA file");
    expect(failed.io.err).not.toMatch(/^\s+at /m);
    expect(engineChildren()).toEqual([]);

    const notRun = capture();
    expect(await main(["eval", join(dir, "images")], notRun.cli)).toBe(2);
    expect(notRun.io.err).toContain("not a teach run folder (no recipe.yaml)");
    const unfinished = capture(); // the recipe's folder has a recipe.yaml but no LoRA
    expect(await main(["eval", dir], unfinished.cli)).toBe(2);
    expect(unfinished.io.err).toContain("no pytorch_lora_weights.safetensors yet; finish the run first");

    const generate = capture();
    const out = join(dir, "images");
    const args = ["generate", "--prompt", "a beach at dusk", "--n", "2", "--lora", run, "--out", out, "-q"];
    expect(await main(args, generate.cli)).toBe(0);
    expect(existsSync(join(out, "grid.png"))).toBe(true);

    // the taught LoRA's images, measured, as judge training data (base source + LoRA at two scales)
    const pool = capture();
    const poolFile = join(dir, "pool.pt");
    const poolArgs = [
      "world",
      "judge-pool",
      "--out",
      poolFile,
      "--seed",
      "5",
      "--n",
      "4",
      "--lora",
      `t=${run}`,
    ];
    expect(await main([...poolArgs, "-q"], pool.cli)).toBe(0);
    expect(pool.io.out).toContain(`12 images in ${poolFile}`);
    const counts = JSON.parse(pool.io.out.trim().split("\n").at(-1)!) as Record<string, number>;
    expect(Object.keys(counts).sort()).toEqual([
      "depth_read",
      "horizon_none",
      "horizon_read",
      "sky_read",
      "stroke_loose_lora",
      "stroke_none",
      "stroke_read",
      "stroke_wide",
    ]);
    expect(counts.horizon_read! + counts.horizon_none!).toBeLessThanOrEqual(6); // 6 landscape captions
    expect(counts.depth_read).toBeLessThanOrEqual(6); // point pairs compared where a landscape has a horizon
    expect(counts.stroke_loose_lora).toBe(0); // the LoRA taught here asks no stroke
    // seven engine jobs end to end (teach, its evaluation with the drift floor's renders, generate, a pool):
    // 30-50 s on 2 idle cores, over a minute when the machine is shared; the limit only guards against a hang
  }, 180_000);
});
