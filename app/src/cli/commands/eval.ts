import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { judgeRoles, type RoledJudge } from "../../eval/judge-check.js";
import { measure } from "../../eval/measurers/index.js";
import { summarise, type EvalSummary } from "../../eval/summary.js";
import { readImage } from "../../images/read.js";
import { loadRecipeFile, teachRecipe } from "../../recipes/load.js";
import type { TeachRecipe } from "../../recipes/schema.js";
import { writeEvalReport } from "../../report/eval-report.js";
import { controlSheet } from "../../report/measured-sheet.js";
import { checkpointDir, checkpointSteps, evalDir, LORA_FILE, useScale } from "../../runs/lora.js";
import type { CliContext } from "../context.js";
import { runEngineJob, type EngineJobOptions } from "../engine-job.js";
import { UsageError } from "../errors.js";
import { startFloor } from "./eval-floor.js";
import type { Console } from "../io.js";
import { integer, nonEmpty, number } from "../options.js";
import { Progress } from "../progress.js";

/** Evaluation seeds start here: far from the recipes' grid seeds and from every training noise seed. */
export const FIRST_EVAL_SEED = 10_000;

export interface EvalOptions {
  seeds: number;
  firstSeed: number;
  scale?: number;
  heldoutJudge?: string;
  /** Evaluate the LoRA of the run's checkpoint at this step instead of its final one. */
  checkpoint?: number;
  out?: string;
  json?: boolean;
}

export const EVAL_DEFAULTS: EvalOptions = { seeds: 16, firstSeed: FIRST_EVAL_SEED };

export function evalCommand(context: CliContext): Command {
  return context
    .command(
      "eval",
      "evaluate a taught LoRA on held-out prompts and seeds, with held-out judges and measurers",
    )
    .argument("<run>", "a teach run folder")
    .option("--seeds <n>", "seeds per prompt", integer(2, 1000), EVAL_DEFAULTS.seeds)
    .option("--first-seed <seed>", "the first seed", integer(0), EVAL_DEFAULTS.firstSeed)
    .option("--scale <s>", "adapter scale to evaluate (default: the scale the run uses its LoRA at)", number)
    .option(
      "--heldout-judge <name>",
      "held-out judge (default: the recipe's heldout_judge)",
      nonEmpty("a judge"),
    )
    .option(
      "--checkpoint <step>",
      "evaluate the LoRA as it was at this training step (one of the run's checkpoints) instead of its final one",
      integer(1),
    )
    .option(
      "--out <dir>",
      "where the images and the report go (default: RUN/eval, RUN/eval-step-N for a checkpoint, with -scale-S " +
        "after it for another scale than the trained one)",
    )
    .option("--json", "print the summary as JSON")
    .addHelpText(
      "after",
      "\nPrompts are the recipe's eval.prompts. Each image is drawn without the LoRA and with it from the same\n" +
        "noise; the training judge, its co-judges, the held-out judge and the measurers score both. Writes\n" +
        "images/, grids/, summary.json, report.md and report.html (one self-contained file) into the output\n" +
        "folder. A run keeps its last three checkpoints: --checkpoint N evaluates one of them (which step does\n" +
        "best, without teaching again); --scale S evaluates the LoRA at another adapter scale (how much of the\n" +
        "control a weaker LoRA keeps, and how much less it drifts). `dualproc compare --step/--vs-step N` and\n" +
        "`--scale/--vs-scale S` compare such evaluations.",
    )
    .action(async (run: string, options: EvalOptions, self: Command) => {
      const console = context.consoleFor(self);
      const summary = await evaluateRun(console, run, options);
      if (options.json) console.result(JSON.stringify(summary));
    });
}

/** Evaluate the run in `runDir`, write its report, print the verdict; shared by `eval` and `teach`. */
export async function evaluateRun(
  console: Console,
  runDir: string,
  options: EvalOptions,
  job: Pick<EngineJobOptions, "signal" | "onEvent"> = {},
): Promise<EvalSummary> {
  const run = resolve(runDir);
  const recipeFile = join(run, "recipe.yaml");
  if (!existsSync(recipeFile)) throw new UsageError(`${runDir}: not a teach run folder (no recipe.yaml)`);
  const lora = loraToEvaluate(run, runDir, options.checkpoint);
  const recipe = teachRecipe(loadRecipeFile(recipeFile));
  const scale = options.scale ?? useScale(run) ?? 1;
  if (scale === 0)
    throw new UsageError("--scale: 0 is the base model; give the scale to evaluate the LoRA at");
  const judges = judgesOf(recipe, options.heldoutJudge);
  if (!judges.some((j) => j.role === "held-out"))
    console.warn(
      "no held-out judge (the recipe's heldout_judge is null): only the measurers can check the judge",
    );
  if (sameList(recipe.eval.prompts, recipe.prompts))
    console.warn("eval.prompts are the training prompts: add held-out prompts to the recipe's eval section");
  const out = resolve(options.out ?? evalDir(run, options.checkpoint, scale));
  mkdirSync(out, { recursive: true });
  const seeds = Array.from({ length: options.seeds }, (_, i) => options.firstSeed + i);
  const params = {
    recipe,
    recipe_dir: dirname(recipeFile),
    lora,
    prompts: recipe.eval.prompts,
    seeds,
    lora_scales: [0, scale],
    judges: judges.map((j) => j.judge),
    out_dir: out,
  };
  const at = options.checkpoint === undefined ? "" : ` at step ${options.checkpoint}`;
  console.info(
    `evaluating ${run}${at}: ${recipe.eval.prompts.length} prompts x ${seeds.length} seeds, scales 0 and ${scale}`,
  );
  const floor = startFloor(console, recipe, judges, out, job.signal);
  let result;
  try {
    result = await runEngineJob(console, "evaluate", params, { runDir: out, label: "eval", ...job });
  } catch (error) {
    await floor.stop(); // its worker closes before the error reaches the caller
    throw error;
  }
  const floorResult = await floor.done;
  const progress = new Progress(console, "measure");
  const pixels = result.images.map((img) => readImage(img.path));
  const measurements = pixels.map((img, i) => {
    progress.update(i + 1, pixels.length, "images");
    return measure(img);
  });
  progress.done();
  const summary = summarise({
    result,
    measurements,
    pixels,
    questions: recipe.questions,
    trainingJudge: recipe.judge,
    coJudges: recipe.co_judges,
    taughtScale: scale,
    driftFloor: floorResult?.rates,
    judgeChecks: floorResult?.judgeChecks,
    // the floor runs for the Scenes world only, whose images the measurers read: only there does a plain
    // question become a control
    readings: floorResult?.readings,
  });
  const sheet = controlSheet({
    questions: recipe.questions,
    readings: floorResult?.readings ?? [],
    images: result.images,
    measurements,
    pixels,
    taughtScale: scale,
  });
  let measured: string | undefined;
  if (sheet) {
    measured = join(out, "measured.png");
    writeFileSync(measured, sheet);
  }
  const report = writeEvalReport({
    runDir: run,
    checkpoint: options.checkpoint,
    evalDir: out,
    recipe,
    summary,
    grids: result.grids,
    measured,
  });
  console.result(`verdict: ${summary.verdict_text}`);
  console.result(`eval report: ${report}`);
  return summary;
}

/** The folder holding the LoRA to evaluate: the run's own, or its checkpoint at `step`. */
function loraToEvaluate(run: string, runDir: string, step: number | undefined): string {
  if (step === undefined) {
    if (!existsSync(join(run, LORA_FILE)))
      throw new UsageError(
        `${runDir}: no ${LORA_FILE} yet; finish the run first (dualproc teach --resume ${runDir})`,
      );
    return run;
  }
  const steps = checkpointSteps(run);
  if (!steps.includes(step))
    throw new UsageError(
      `${runDir}: no checkpoint at step ${step}; ` +
        (steps.length > 0 ? `it keeps steps ${steps.join(", ")}` : "it has no checkpoints"),
    );
  return checkpointDir(run, step);
}

/** Every judge is scored, the co-judges too (how well each sees the control tells why it took or not). */
function judgesOf(recipe: TeachRecipe, heldout: string | undefined): RoledJudge[] {
  const second = heldout ?? recipe.heldout_judge;
  checkHeldoutJudge([recipe.judge, ...recipe.co_judges], second, keepJudgeOf(recipe));
  return judgeRoles(recipe.judge, recipe.co_judges, second);
}

/** A held-out judge scores what the training judges were optimised against, so it must be another model;
 * so is a judge the `keep` questions were asked of (`keepJudge`). */
export function checkHeldoutJudge(
  teachers: readonly string[],
  heldout: string | null,
  keepJudge: string | null = null,
): void {
  if (heldout === null) return;
  let role: string | null = null;
  if (heldout === teachers[0]) role = "the training judge";
  else if (teachers.includes(heldout)) role = "one of the co_judges";
  else if (heldout === keepJudge) role = "the keep_judge";
  if (role !== null)
    throw new UsageError(`the held-out judge ${heldout} is ${role}; give another with --heldout-judge`);
}

/** The judge a recipe's keep questions were asked of, where it has keep questions and names another judge. */
export function keepJudgeOf(recipe: { keep: readonly unknown[]; keep_judge: string | null }): string | null {
  return recipe.keep.length > 0 ? recipe.keep_judge : null;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
