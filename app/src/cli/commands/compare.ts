import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import type { Interval } from "../../eval/bootstrap.js";
import {
  ComparisonError,
  compareSeeds,
  taughtSuccess,
  type SeedComparison,
  type SeedResult,
} from "../../eval/seed-comparison.js";
import { evalDir } from "../../runs/lora.js";
import { readJson } from "../../runs/runs-store.js";
import type { CliContext } from "../context.js";
import { UsageError } from "../errors.js";
import { integer, number } from "../options.js";
import { table } from "../table.js";

/** The training seed, from the resolved recipe the run records (run.json's params). */
const TeachRunJson = z.object({
  params: z.object({ recipe: z.object({ training: z.object({ seed: z.number().int() }) }) }),
});

/** The parts of eval/summary.json the comparison reads. */
const Measured = z.object({
  controls: z.array(z.object({ label: z.string(), taught: z.object({ mean: z.number() }).nullable() })),
  judges: z.array(z.object({ role: z.string(), taught: z.object({ mean: z.number() }).nullable() })),
  drift: z
    .array(z.object({ label: z.string(), rate: z.object({ mean: z.number() }).nullable() }))
    .default([]),
});

export function compareCommand(context: CliContext): Command {
  return context
    .command(
      "compare",
      "is one way of teaching a control better than another? runs of A and B paired by training seed",
    )
    .argument("<runs...>", "variant A: evaluated teach runs, one per training seed")
    .requiredOption("--vs <runs...>", "variant B: evaluated teach runs of the same control, one per seed")
    .option(
      "--step <n>",
      "A's checkpoints at this step (dualproc eval RUN --checkpoint N) instead of its LoRAs",
      integer(1),
    )
    .option("--vs-step <n>", "B's checkpoints at this step instead of its LoRAs", integer(1))
    .option("--scale <s>", "A's LoRAs at this adapter scale (dualproc eval RUN --scale S)", number)
    .option("--vs-scale <s>", "B's LoRAs at this adapter scale", number)
    .option("--json", "print the comparison as JSON")
    .addHelpText(
      "after",
      "\nTwo training seeds of one recipe can be 25 points apart, so one run of each variant says little.\n" +
        "Teach both at the same seeds (dualproc teach RECIPE --seed N --out DIR), four or more; this pairs the\n" +
        "runs by seed and gives the mean taught success of each (the first measured control, else the held-out\n" +
        "judge's score) and of B - A, with 95% bootstrap intervals over the seeds; then the same for each drift\n" +
        "check (the share of image pairs in which something the control should leave alone changed).\n" +
        "Example: dualproc compare runs/lw-s0 runs/lw-s1 runs/lw-s2 runs/lw-s3 --vs runs/new-s0 runs/new-s1 ...\n" +
        "Fewer steps, without teaching again: evaluate each run's checkpoint (dualproc eval RUN --checkpoint 100),\n" +
        "then dualproc compare runs/lw-s0 ... --vs runs/lw-s0 ... --vs-step 100. A weaker LoRA likewise: dualproc\n" +
        "eval RUN --scale 0.7 for each, then dualproc compare runs/lw-s0 ... --vs runs/lw-s0 ... --vs-scale 0.7.",
    )
    .action((runs: string[], options: CompareOptions, self: Command) => {
      const console = context.consoleFor(self);
      let comparison;
      try {
        comparison = compareSeeds(
          runs.map((run) => readSeedResult(run, options.step, options.scale)),
          options.vs.map((run) => readSeedResult(run, options.vsStep, options.vsScale)),
        );
      } catch (error) {
        if (error instanceof ComparisonError) throw new UsageError(error.message);
        throw error;
      }
      console.result(options.json ? JSON.stringify(comparison) : comparisonText(comparison));
    });
}

interface CompareOptions {
  vs: string[];
  step?: number;
  vsStep?: number;
  scale?: number;
  vsScale?: number;
  json?: boolean;
}

/**
 * One run's training seed and taught success (of its LoRA, or of its checkpoint at `step`, at the adapter
 * scale it is used at or at `scale`); a `UsageError` names what the folder lacks.
 */
function readSeedResult(run: string, step?: number, scale?: number): SeedResult {
  if (!existsSync(join(run, "recipe.yaml")))
    throw new UsageError(`${run}: not a teach run folder (no recipe.yaml)`);
  const teach = readJson(join(run, "run.json"), TeachRunJson);
  if (!teach) throw new UsageError(`${run}: its run.json is missing or unreadable (did the run start?)`);
  const summary = readJson(join(evalDir(run, step, scale), "summary.json"), Measured);
  if (!summary) {
    const how = [
      step === undefined ? "" : ` at step ${step}`,
      scale === undefined ? "" : ` at scale ${scale}`,
    ];
    const flags = [
      step === undefined ? "" : ` --checkpoint ${step}`,
      scale === undefined ? "" : ` --scale ${scale}`,
    ];
    throw new UsageError(`${run}: not evaluated${how.join("")} yet (dualproc eval ${run}${flags.join("")})`);
  }
  const success = taughtSuccess(summary);
  if (!success)
    throw new UsageError(`${run}: its evaluation has no measured control and no held-out judge's score`);
  const drift = summary.drift.flatMap((d) => (d.rate ? [{ label: d.label, rate: d.rate.mean }] : []));
  return {
    run,
    seed: teach.params.recipe.training.seed,
    measure: success.measure,
    success: success.value,
    drift,
  };
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const points = (v: number) => `${v >= 0 ? "+" : ""}${(100 * v).toFixed(1)}`;
const interval = (i: Interval, f: (v: number) => string) => `${f(i.mean)} [${f(i.low)}, ${f(i.high)}]`;

/** The comparison as a table by seed, a sentence that says whether B differs from A, and the drift. */
export function comparisonText(c: SeedComparison): string {
  const rows = c.pairs.map((p) => [String(p.seed), pct(p.a), pct(p.b), points(p.b - p.a)]);
  const n = c.pairs.length;
  const said =
    c.verdict === "no difference"
      ? "A and B differ by less than the training seeds' noise: the interval of B - A holds 0."
      : `${c.verdict === "B better" ? "B" : "A"} is better: the interval of B - A lies ${c.verdict === "B better" ? "above" : "below"} 0.`;
  const left = [
    ...(c.unpaired.a.length ? [`A alone at seeds ${c.unpaired.a.join(", ")}`] : []),
    ...(c.unpaired.b.length ? [`B alone at seeds ${c.unpaired.b.join(", ")}`] : []),
  ];
  return [
    `${c.measure}, taught success by training seed:`,
    table(["seed", "A", "B", "B - A"], rows),
    `mean over ${n} seeds: A ${interval(c.a, pct)}, B ${interval(c.b, pct)}; B - A ${interval(c.difference, points)} points (95% bootstrap intervals over the seeds)`,
    said + (left.length ? ` Left out (no partner): ${left.join("; ")}.` : ""),
    ...driftLines(c.drift),
  ].join("\n");
}

/** The drift checks' means and B - A (lower is better), and which, if any, clears the seeds' noise. */
function driftLines(drift: SeedComparison["drift"]): string[] {
  if (drift.length === 0) return [];
  const rows = drift.map((d) => [
    d.label,
    interval(d.a, pct),
    interval(d.b, pct),
    interval(d.difference, points),
    d.verdict,
  ]);
  return [
    "",
    "drift, share of image pairs changed (lower is better; mean over the seeds, 95% bootstrap intervals):",
    table(["check", "A", "B", "B - A (points)", "verdict"], rows),
  ];
}
