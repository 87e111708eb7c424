/** What the app reads back about a taught LoRA from its run folder: how it was taught (its recipe). */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import { z } from "zod";

/** The LoRA a teach run folder holds once trained (diffusers' file name). */
export const LORA_FILE = "pytorch_lora_weights.safetensors";

/** The parts of a run's recipe.yaml that say how to use its LoRA; each may be missing in an odd file. */
const HowTaught = z.object({
  generator: z.string().optional(),
  training: z
    .object({
      lora_scale: z.number().optional(),
      use_scale: z.number().nullable().optional(),
      num_inference_steps: z.number().int().optional(),
      guidance_scale: z.number().nullable().optional(),
      resolution_px: z.number().int().optional(),
    })
    .optional(),
});
type HowTaught = z.infer<typeof HowTaught>;

/** How the LoRA at `path` (a teach run folder, or the LoRA file in one) was taught; {} where unknown. */
function howTaught(path: string | undefined): HowTaught {
  const run = path?.endsWith(".safetensors") ? dirname(path) : path;
  const recipe = run ? join(run, "recipe.yaml") : undefined;
  if (!recipe || !existsSync(recipe)) return {};
  try {
    const parsed = HowTaught.safeParse(parse(readFileSync(recipe, "utf8")));
    return parsed.success ? parsed.data : {};
  } catch {
    return {}; // not YAML: nothing known
  }
}

/**
 * The adapter scale a teach run's LoRA is used at (its recipe's training.use_scale, else the lora_scale it
 * trained at), if `path` is a run folder.
 */
export function useScale(path: string | undefined): number | undefined {
  const training = howTaught(path).training;
  return training?.use_scale ?? training?.lora_scale;
}

/** The generator a teach run's LoRA was taught on (its recipe's `generator`), if `path` is a run folder. */
export function trainedGenerator(path: string): string | undefined {
  return howTaught(path).generator;
}

/** The sampling steps a teach run's LoRA was taught with (its recipe's training.num_inference_steps). */
export function trainedSteps(path: string): number | undefined {
  return howTaught(path).training?.num_inference_steps;
}

/** The guidance a teach run's LoRA was taught with (its recipe's training.guidance_scale), if it set one. */
export function trainedGuidance(path: string | undefined): number | undefined {
  return howTaught(path).training?.guidance_scale ?? undefined;
}

/** The image side a teach run's LoRA was taught at (its recipe's training.resolution_px). */
export function trainedResolution(path: string | undefined): number | undefined {
  return howTaught(path).training?.resolution_px;
}

/**
 * A teach run's checkpoint at `step`: the engine keeps the last few (teach/checkpoint.py), each with the LoRA
 * as it was then, so a run can be evaluated at an earlier step without teaching it again.
 */
export function checkpointDir(run: string, step: number): string {
  return join(run, "checkpoints", `step-${step}`);
}

/** The steps whose checkpoint holds a LoRA, lowest first. */
export function checkpointSteps(run: string): number[] {
  const folder = join(run, "checkpoints");
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .map((name) => /^step-(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null && existsSync(join(folder, m[0], LORA_FILE)))
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/**
 * Where `dualproc eval` writes a run's evaluation: eval/, or eval-step-N/ for its checkpoint at step N; at an
 * adapter scale other than the one the run's LoRA is used at, with -scale-S after it (eval-scale-0.7/), so that
 * evaluating another scale never overwrites the run's own evaluation.
 */
export function evalDir(run: string, step?: number, scale?: number): string {
  const at = step === undefined ? "eval" : `eval-step-${step}`;
  const own = scale === undefined || scale === (useScale(run) ?? 1);
  return join(run, own ? at : `${at}-scale-${scale}`);
}
