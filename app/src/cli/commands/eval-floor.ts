/**
 * The part of `dualproc eval` that needs the recipe, not the LoRA, on the Scenes world: what each plain
 * question asks there (the engine's reading, by which the measurers may check it), Scenes rendered with and
 * without the control (drift-floor.ts), measured, and asked the control's question by each judge; for points,
 * layouts and plain questions, Scenes questions in the recipe's words whose answer the world knows. From them,
 * the drift of a perfect control and whether each judge can tell right from wrong answers here at all
 * (judge-check.ts). It runs in a worker of its own, on the other core, while the engine evaluates the LoRA;
 * its progress is not drawn (two bars on one line would garble) and its events stay out of the caller's.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { controlsOf, type SceneReading } from "../../eval/controls.js";
import type { DriftRate } from "../../eval/drift.js";
import {
  floorRates,
  floorScenes,
  measuredRenders,
  type FloorScenes,
  type MeasuredRender,
} from "../../eval/drift-floor.js";
import { judgeCheck, type JudgeCheck, type RoledJudge } from "../../eval/judge-check.js";
import { distinctLabel } from "../../eval/summary.js";
import type { EngineWorker } from "../../engine/worker.js";
import type { Overlay } from "../../protocol/overlay.js";
import { drawsScenes } from "../../recipes/draws-scenes.js";
import type { TeachRecipe } from "../../recipes/schema.js";
import { openEngineWorker, runEngineJob } from "../engine-job.js";
import { Console } from "../io.js";

export interface Floor {
  /** The drift checks on the rendered twins: what a perfect control drifts (none without a measurable control). */
  rates: DriftRate[] | undefined;
  /** Each judge on each question that has renders with a known answer. */
  judgeChecks: JudgeCheck[];
  /** What each recipe question asks in the Scenes world (the engine's reading; null: none of its wordings). */
  readings: (SceneReading | null)[];
}

/** Scenes rendered for the floor: enough for a +-15-point interval, a few seconds of rendering. */
const FLOOR_SCENES = 48;
const FLOOR_SEED = 1_000_030; // a held-out scene seed (engine: generators/evaluate.py HELDOUT_SEED + 31)

/**
 * Start the floor beside the evaluation: `done` resolves with it (undefined where there is none: not the
 * embedded Scenes generator, or no measurable question); `stop` cancels it and waits until its worker is gone.
 * `judges`: the training judge first, its co-judges, then the held-out one if any.
 */
export function startFloor(
  console: Console,
  recipe: TeachRecipe,
  judges: readonly RoledJudge[],
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
  judges: readonly RoledJudge[],
  out: string,
  signal: AbortSignal,
): Promise<Floor | undefined> {
  if (!drawsScenes(recipe.generator)) return undefined; // the renders are of its world
  const read = needsReadings(recipe.questions);
  const unmeasured = questionsWithSceneAnswers(recipe.questions);
  if (!read && !floorScenes(recipe.questions) && unmeasured.length === 0) return undefined;
  const worker = await openEngineWorker(console); // one start for all of its jobs
  const job = { signal, worker };
  try {
    const questions = recipe.questions.map((q) => q.question);
    const { readings } = read
      ? await runEngineJob(console, "readings", { questions }, { label: "readings", ...job })
      : { readings: questions.map(() => null) };
    const floor = floorScenes(recipe.questions, readings);
    const judgeChecks: JudgeCheck[] = [];
    let rates: DriftRate[] | undefined;
    if (floor) {
      const rendered = await renderTwins(console, floor, out, job);
      rates = floorRates(rendered.base, rendered.control, floor.controlled);
      judgeChecks.push(
        ...(await checkJudges(console, recipe, floor.controlled, judges, renders(rendered), job)),
      );
    }
    for (const [i, ask] of unmeasured.entries())
      judgeChecks.push(...(await checkJudgesOnQa(console, ask, judges, join(out, "known", `q${i}`), job)));
    return { rates, judgeChecks, readings };
  } finally {
    await worker.close();
  }
}

/**
 * Whether the engine must read what the questions ask in the Scenes world: a plain question (no visual
 * prompt) counts by its reading, and so does a two-point question ("closer" or "farther").
 */
export function needsReadings(questions: readonly { visual_prompt?: { kind: string } | null }[]): boolean {
  return questions.some((q) => !q.visual_prompt || q.visual_prompt.kind === "points");
}

/** The floor's scenes without and with the control set, rendered and measured. */
async function renderTwins(
  console: Console,
  floor: FloorScenes,
  out: string,
  job: { signal: AbortSignal; worker: EngineWorker },
): Promise<Record<"base" | "control", MeasuredRender[]>> {
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
      ...job,
    });
    rendered[name] = measuredRenders(dir);
  }
  return rendered;
}

const renders = (r: Record<"base" | "control", MeasuredRender[]>) => [...r.base, ...r.control];

/** Every judge asked every rendered control's question about the renders, scored by the measured truth. */
async function checkJudges(
  console: Console,
  recipe: TeachRecipe,
  rendered: ReadonlySet<string>,
  judges: readonly RoledJudge[],
  renders: readonly MeasuredRender[],
  job: { signal: AbortSignal; worker: EngineWorker },
): Promise<JudgeCheck[]> {
  const checks: JudgeCheck[] = [];
  // two points are checked on Scenes questions whose answer the world knows (checkJudgesOnQa), not here
  const checked = (c: { attribute: string }) => rendered.has(c.attribute) && c.attribute !== "depth";
  for (const control of controlsOf(recipe.questions).filter(checked)) {
    const q = recipe.questions[control.question]!;
    // A question that names a slot ("{thing}") is asked of each prompt in its own words; renders have none.
    if (/\{\w+\}/.test(q.question) || /\{\w+\}/.test(q.answer)) continue;
    const asked = {
      question: q.question,
      answer: q.answer,
      overlay: (q.visual_prompt ?? null) as Overlay | null,
    };
    const truths = renders.map((r) => control.passes(r.measurement, r.image));
    const label = distinctLabel(q, recipe.questions);
    checks.push(
      ...(await askEveryJudge(
        console,
        judges,
        asked,
        renders.map((r) => r.file),
        truths,
        job,
        label,
      )),
    );
  }
  return checks;
}

/** Every judge asked one question about `images`; each judge's answers scored by the truth per image. */
async function askEveryJudge(
  console: Console,
  judges: readonly RoledJudge[],
  asked: { question: string; answer: string; overlay: Overlay | null },
  images: string[],
  truths: readonly (boolean | null)[],
  job: { signal: AbortSignal; worker: EngineWorker },
  label?: string,
): Promise<JudgeCheck[]> {
  const checks: JudgeCheck[] = [];
  for (const { judge, role } of judges) {
    const params = { images, ...asked, judge };
    const { answers, asked_as } = await runEngineJob(console, "ask", params, {
      label: `judge check (${judge})`,
      ...job,
    });
    const probabilities = answers.map((a) => a.probability);
    checks.push(
      judgeCheck({ judge, role, question: asked.question, asked_as, label, probabilities }, truths),
    );
  }
  return checks;
}

/**
 * Questions no measurer reads, whose Scenes questions the world answers itself (world/qa): visual prompts of
 * points A and B (which is nearer) and labelled boxes (does the layout match), and plain questions (no visual
 * prompt) about a landscape's horizon band, sky or time of day. Scenes of that kind are asked the families'
 * questions in every phrasing, each with its own points or boxes drawn; those worded exactly as the recipe's
 * question are the renders with a known answer.
 */
const SCENE_FAMILIES = {
  // per scene: about 80 records of 1,650 are in the recipe's words (one phrasing and relation of 18)
  points: { families: ["relative_depth"], kind: "landscape", perScene: 6 },
  // about 90 of 900 (one phrasing of 9)
  layout: { families: ["layout_match"], kind: null, perScene: 3 },
  // one phrasing and variant of 27 to 36: about 35 to 45 records of 1,200 per family
  none: { families: ["horizon_band", "sky", "time_of_day"], kind: "landscape", perScene: 4 },
} as const;
const QA_SCENES = 300;
const QA_SEED = 1_000_031; // held-out scenes, as FLOOR_SEED
/** Fewer records than this of either answer in the recipe's words: not a Scenes phrasing, nothing to check. */
const QA_LEAST = 10;

export interface SceneQuestion {
  question: string;
  answer: "Yes" | "No";
  family: (typeof SCENE_FAMILIES)[keyof typeof SCENE_FAMILIES];
}

export function questionsWithSceneAnswers(questions: TeachRecipe["questions"]): SceneQuestion[] {
  const seen = new Set<string>();
  return questions.flatMap((q) => {
    const kind = (q.visual_prompt as { kind?: string } | null | undefined)?.kind ?? "none";
    const family =
      kind === "points" || kind === "layout" || kind === "none" ? SCENE_FAMILIES[kind] : undefined;
    const key = `${kind}/${q.question}/${q.answer}`;
    // a question that names a slot ("{thing}") is asked of each prompt in its own words; scenes have none
    const slotted = /\{\w+\}/.test(q.question);
    if (!family || slotted || (q.answer !== "Yes" && q.answer !== "No") || seen.has(key)) return [];
    seen.add(key);
    return [{ question: q.question, answer: q.answer, family }];
  });
}

const QaRecord = z.object({
  question: z.string(),
  answer: z.enum(["Yes", "No"]),
  file: z.string(),
  /** The scene with its question's visual prompt drawn; null for a plain question (the scene as rendered). */
  image: z.string().nullable(),
});

/** Every judge asked the recipe's question about Scenes whose answer the world knows (their own visual prompts). */
export async function checkJudgesOnQa(
  console: Console,
  ask: SceneQuestion,
  judges: readonly RoledJudge[],
  dir: string,
  job: { signal: AbortSignal; worker: EngineWorker },
): Promise<JudgeCheck[]> {
  rmSync(dir, { recursive: true, force: true });
  const qa = await runEngineJob(
    console,
    "qa",
    {
      n: QA_SCENES,
      seed: QA_SEED,
      size_px: 64,
      kind: ask.family.kind,
      families: [...ask.family.families],
      per_scene: ask.family.perScene,
      phrasing_split: "all",
      overlay_images: true,
      out_dir: dir,
    },
    { label: `judge check (${ask.family.families.join(", ")})`, ...job },
  );
  const records = readFileSync(qa.qa, "utf8")
    .trim()
    .split("\n")
    .map((line) => QaRecord.parse(JSON.parse(line)))
    .filter((r) => r.question === ask.question);
  const images = records.map((r) => r.image ?? r.file);
  pruneQa(dir, new Set(images));
  const truths = records.map((r) => r.answer === ask.answer);
  if (truths.filter(Boolean).length < QA_LEAST || truths.filter((t) => !t).length < QA_LEAST) return [];
  const asked = { question: ask.question, answer: ask.answer, overlay: null }; // each image has its own drawn
  return askEveryJudge(
    console,
    judges,
    asked,
    images.map((image) => join(dir, image)),
    truths,
    job,
  );
}

/**
 * Keep only the images asked about (and qa.jsonl, attributes.jsonl): the job draws some 1,650 questions to
 * find the 80 in the recipe's words, and an eval folder should not grow by 9 MB for them. A plain question's
 * image is its scene's render (in the folder itself), a visual prompt's the scene with it drawn (in qa/).
 */
function pruneQa(dir: string, used: ReadonlySet<string>): void {
  for (const folder of ["", "qa"])
    for (const name of readdirSync(join(dir, folder)))
      if (name.endsWith(".png") && !used.has(folder ? `${folder}/${name}` : name))
        rmSync(join(dir, folder, name));
}
