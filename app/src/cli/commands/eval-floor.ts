/**
 * The part of `dualproc eval` that needs the recipe, not the LoRA: Scenes rendered with and without the
 * control (drift-floor.ts), measured, and asked the control's question by each judge. From them, the drift of
 * a perfect control and whether each judge can tell renders that pass the control from those that fail
 * (judge-check.ts). It runs in a worker of its own, on the other core, while the engine evaluates the LoRA;
 * its progress is not drawn (two bars on one line would garble) and its events stay out of the caller's.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { controlsOf } from "../../eval/controls.js";
import type { DriftRate } from "../../eval/drift.js";
import { floorRates, floorScenes, measuredRenders, type MeasuredRender } from "../../eval/drift-floor.js";
import { judgeCheck, type JudgeCheck } from "../../eval/judge-check.js";
import type { EngineWorker } from "../../engine/worker.js";
import type { Overlay } from "../../protocol/overlay.js";
import type { TeachRecipe } from "../../recipes/schema.js";
import { openEngineWorker, runEngineJob } from "../engine-job.js";
import { Console } from "../io.js";

export interface Floor {
  /** The drift checks on the rendered twins: what a perfect control drifts. */
  rates: DriftRate[];
  /** Each judge on each measurable control's question, on those renders. */
  judgeChecks: JudgeCheck[];
}

/** Scenes rendered for the floor: enough for a +-15-point interval, a few seconds of rendering. */
const FLOOR_SCENES = 48;
const FLOOR_SEED = 1_000_030; // a held-out scene seed (engine: generators/evaluate.py HELDOUT_SEED + 31)

/**
 * Start the floor beside the evaluation: `done` resolves with it (undefined where there is none: not the
 * embedded Scenes generator, or no measurable question); `stop` cancels it and waits until its worker is gone.
 * `judges`: the training judge first, then the held-out one if any.
 */
export function startFloor(
  console: Console,
  recipe: TeachRecipe,
  judges: readonly string[],
  out: string,
  outer: AbortSignal | undefined,
): { done: Promise<Floor | undefined>; stop: () => Promise<void> } {
  const abort = new AbortController();
  const onOuterAbort = () => abort.abort();
  outer?.addEventListener("abort", onOuterAbort, { once: true });
  if (outer?.aborted) abort.abort();
  const done = measureFloor(new Console(console.io, "quiet"), recipe, judges, out, abort.signal);
  // The caller awaits `done`; this reaction also keeps a failure before then from counting as unhandled.
  void done.finally(() => outer?.removeEventListener("abort", onOuterAbort)).catch(() => undefined);
  const stop = async () => {
    abort.abort();
    await done.catch(() => undefined);
  };
  return { done, stop };
}

async function measureFloor(
  console: Console,
  recipe: TeachRecipe,
  judges: readonly string[],
  out: string,
  signal: AbortSignal,
): Promise<Floor | undefined> {
  const floor = recipe.generator === "scenes-generator" ? floorScenes(recipe.questions) : null;
  if (!floor) return undefined;
  const worker = await openEngineWorker(console); // one start for all of its jobs
  try {
    const rendered: Record<"base" | "control", MeasuredRender[]> = { base: [], control: [] };
    for (const [name, fixed] of [
      ["base", undefined],
      ["control", floor.fixed],
    ] as const) {
      const dir = join(out, "floor", name);
      rmSync(dir, { recursive: true, force: true });
      const params = { n: FLOOR_SCENES, seed: FLOOR_SEED, size_px: 64, kind: floor.kind, out_dir: dir };
      await runEngineJob(console, "render", fixed ? { ...params, fixed } : params, {
        label: `drift floor (${name})`,
        signal,
        worker,
      });
      rendered[name] = measuredRenders(dir);
    }
    return {
      rates: floorRates(rendered.base, rendered.control, floor.controlled),
      judgeChecks: await checkJudges(console, recipe, floor.controlled, judges, renders(rendered), {
        signal,
        worker,
      }),
    };
  } finally {
    await worker.close();
  }
}

const renders = (r: Record<"base" | "control", MeasuredRender[]>) => [...r.base, ...r.control];

/** Every judge asked every rendered control's question about the renders, scored by the measured truth. */
async function checkJudges(
  console: Console,
  recipe: TeachRecipe,
  rendered: ReadonlySet<string>,
  judges: readonly string[],
  renders: readonly MeasuredRender[],
  job: { signal: AbortSignal; worker: EngineWorker },
): Promise<JudgeCheck[]> {
  const checks: JudgeCheck[] = [];
  for (const control of controlsOf(recipe.questions).filter((c) => rendered.has(c.attribute))) {
    const q = recipe.questions[control.question]!;
    // A question that names a slot ("{thing}") is asked of each prompt in its own words; renders have none.
    if (/\{\w+\}/.test(q.question) || /\{\w+\}/.test(q.answer)) continue;
    const truths = renders.map((r) => control.passes(r.measurement, r.widthPx));
    for (const [i, judge] of judges.entries()) {
      const { answers } = await runEngineJob(
        console,
        "ask",
        {
          images: renders.map((r) => r.file),
          question: q.question,
          answer: q.answer,
          overlay: (q.visual_prompt ?? null) as Overlay | null,
          judge,
        },
        { label: `judge check (${judge})`, ...job },
      );
      const role = i === 0 ? "training" : "held-out";
      const probabilities = answers.map((a) => a.probability);
      checks.push(judgeCheck({ judge, role, question: q.question, probabilities }, truths));
    }
  }
  return checks;
}
