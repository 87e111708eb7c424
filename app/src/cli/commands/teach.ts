import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { loadRecipeFile, resolvedRecipeYaml, teachRecipe, type ResolvedRecipe } from "../../recipes/load.js";
import { writeTeachReport } from "../../report/teach-report.js";
import { z } from "zod";
import { LORA_FILE } from "../../runs/lora.js";
import { newRunDir } from "../../runs/run-folder.js";
import { readJson } from "../../runs/runs-store.js";
import type { CliContext } from "../context.js";
import { runEngineJob, type EngineJobOptions } from "../engine-job.js";
import type { Console } from "../io.js";
import { UsageError } from "../errors.js";
import { integer, nonEmpty } from "../options.js";
import { checkHeldoutJudge, EVAL_DEFAULTS, evaluateRun, keepJudgeOf, type EvalOptions } from "./eval.js";

interface TeachOptions {
  out?: string;
  resume?: string;
  runs: string;
  eval: boolean;
  generator?: string;
  judge?: string;
  heldoutJudge?: string;
  seed?: number;
}

const RESOLVED_RECIPE = "recipe.yaml";

export function teachCommand(context: CliContext): Command {
  return context
    .command(
      "teach",
      "teach the generator a control: train a LoRA from the judge's answers to the recipe's questions",
    )
    .argument("[recipe]", "the recipe, a YAML file (see `dualproc recipe fields`)")
    .option("--out <dir>", "run folder (default: a new folder under --runs)")
    .option("--runs <dir>", "where new run folders go", "runs")
    .option("--resume <dir>", "continue a stopped or crashed run from its last checkpoint")
    .option("--no-eval", "skip the held-out evaluation at the end (run `dualproc eval RUN` later)")
    .option(
      "--generator <name>",
      "generator instead of the recipe's (a preset, repo id or folder)",
      nonEmpty("a generator"),
    )
    .option(
      "--judge <name>",
      "training judge instead of the recipe's (a preset, repo id or folder)",
      nonEmpty("a judge"),
    )
    .option(
      "--heldout-judge <name>",
      "held-out judge instead of the recipe's heldout_judge",
      nonEmpty("a judge"),
    )
    .option(
      "--seed <n>",
      "training seed instead of the recipe's training.seed (to see how much a result owes to it)",
      integer(0),
    )
    .addHelpText(
      "after",
      "\nThe run folder gets the resolved recipe, run.json, events.jsonl, metrics.jsonl, checkpoints,\n" +
        "pytorch_lora_weights.safetensors (diffusers layout), grids, score-curve.svg and report.md; then\n" +
        "`dualproc eval` runs on it (eval/report.html). Ctrl-C saves a checkpoint and stops; --resume continues.",
    )
    .action(async (recipeFile: string | undefined, options: TeachOptions, self: Command) => {
      const console = context.consoleFor(self);
      await teachRun(console, where(recipeFile, options), { eval: options.eval });
    });
}

export interface TeachPlan {
  /** Where the recipe came from, for messages (a file, or "studio"). */
  source: string;
  /** The folder image paths in the recipe are relative to. */
  recipeDir: string;
  resolved: ResolvedRecipe;
  out: string;
  resume: boolean;
}

export interface TeachRunOptions extends Pick<EngineJobOptions, "signal" | "onEvent"> {
  /** Run the held-out evaluation at the end (with these options). */
  eval: boolean;
  evalOptions?: EvalOptions;
  /** Called after the teach job, before the evaluation (the studio uses it to say what stage it is in). */
  onStage?: (stage: "teach" | "eval") => void;
}

/** The work of `teach`: a run folder, the engine's teach job, its report, then the evaluation. */
export async function teachRun(console: Console, plan: TeachPlan, options: TeachRunOptions): Promise<void> {
  const { source, recipeDir, resolved, out, resume } = plan;
  const recipe = teachRecipe(resolved);
  if (!resume) {
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, RESOLVED_RECIPE), resolvedRecipeYaml(resolved.recipe));
  }
  console.info(`teaching ${recipe.name ?? source} in ${out}`);
  const params = { recipe, recipe_dir: recipeDir, out_dir: out, resume };
  const job = { signal: options.signal, onEvent: options.onEvent };
  options.onStage?.("teach");
  try {
    const result = await runEngineJob(console, "teach", params, { runDir: out, label: "teach", ...job });
    console.result(`LoRA: ${result.lora}`);
  } finally {
    // Even a stopped run gets its report of what it did so far.
    console.result(`report: ${writeTeachReport(out, recipe)}`);
  }
  if (!options.eval) return;
  options.onStage?.("eval");
  await evaluateRun(console, out, options.evalOptions ?? EVAL_DEFAULTS, job);
}

/** The recipe to read and the run folder to use, for a new run or a resumed one. */
function where(recipeFile: string | undefined, options: TeachOptions): TeachPlan {
  if (options.resume) {
    const out = resolve(options.resume);
    const file = join(out, RESOLVED_RECIPE);
    if (!existsSync(file))
      throw new UsageError(`--resume ${options.resume}: not a teach run folder (no ${RESOLVED_RECIPE})`);
    if (recipeFile)
      throw new UsageError("give a recipe or --resume, not both: a resumed run keeps its own recipe");
    if (options.generator || options.judge || options.heldoutJudge || options.seed !== undefined)
      throw new UsageError(
        "--generator, --judge, --heldout-judge and --seed start a new run; a resumed run keeps its own models and seed",
      );
    return { source: file, recipeDir: out, resolved: loadRecipeFile(file), out, resume: true };
  }
  if (!recipeFile) throw new UsageError("teach needs a recipe file (or --resume RUN_FOLDER)");
  const resolved = withOverrides(loadRecipeFile(recipeFile, options.generator), options);
  const name = resolved.recipe.name ?? "teach";
  const out = resolve(options.out ?? newRunDir(options.runs, name.replace(/[^\w.-]+/g, "-")));
  if (existsSync(join(out, RESOLVED_RECIPE))) {
    if (!turnedDownBeforeTraining(out))
      throw new UsageError(
        `${out} already holds a run; use --resume ${out} to continue it, or another --out`,
      );
    for (const file of UNTRAINED_RUN_FILES) rmSync(join(out, file), { force: true });
  }
  return { source: recipeFile, recipeDir: dirname(resolve(recipeFile)), resolved, out, resume: false };
}

/** What a run the engine turned down before its first step leaves in its folder. */
const UNTRAINED_RUN_FILES = [RESOLVED_RECIPE, "run.json", "events.jsonl", "report.md", "score-curve.svg"];

/**
 * Whether `out` holds a run the engine turned down before training (a mistake in the recipe only the engine
 * can see, e.g. an answer the judge cannot spell): nothing was learned, so running the same command with the
 * recipe fixed starts over there; --resume would replay the mistake from the run's own copy of the recipe.
 */
function turnedDownBeforeTraining(out: string): boolean {
  const state = readJson(join(out, "run.json"), TurnedDown); // null: not such a run, not ours to clear
  const trained = ["checkpoints", "metrics.jsonl", LORA_FILE];
  return state !== null && !trained.some((file) => existsSync(join(out, file)));
}

/** The run.json of a run the engine turned down (runs/lifecycle.ts writes it). */
const TurnedDown = z.object({
  status: z.literal("failed"),
  error: z.object({ code: z.literal("invalid_input") }),
});

/**
 * The recipe with --generator / --judge / --heldout-judge / --seed in place of its own (written to the run
 * folder's recipe.yaml, so the run records the models and seed it used). The held-out judge must be another
 * model than the training judge and its co_judges.
 */
export function withOverrides(
  resolved: ResolvedRecipe,
  options: { generator?: string; judge?: string; heldoutJudge?: string; seed?: number },
): ResolvedRecipe {
  const { recipe } = resolved;
  const generator = options.generator ?? recipe.generator;
  const judge = options.judge ?? recipe.judge;
  const heldout = options.heldoutJudge ?? recipe.heldout_judge;
  checkHeldoutJudge([judge, ...recipe.co_judges], heldout, keepJudgeOf(recipe));
  const training = { ...recipe.training, seed: options.seed ?? recipe.training.seed };
  return { ...resolved, recipe: { ...recipe, generator, judge, heldout_judge: heldout, training } };
}
