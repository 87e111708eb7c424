/**
 * The studio's HTTP API: every body the server sends or accepts, defined once here. The server validates
 * what it receives with these schemas; the page parses what it receives with them too (never a cast).
 * Only zod, no Node or DOM types: both sides import this file.
 */
import { z } from "zod";

/** A run folder's name under the studio's runs folder: letters, digits, '.', '_' and '-'. */
export const RunId = z.string().regex(/^[\w.-]{1,200}$/, "not a run name");

export const RunStage = z
  .enum(["queued", "teach", "eval", "done"])
  .describe("Where a run is: waiting its turn, teaching, evaluating, or finished (its status says how).");

const Progress = z.strictObject({ done: z.number(), total: z.number().nullable(), unit: z.string() });

export const RunSummary = z.strictObject({
  id: RunId,
  name: z.string(),
  status: z.enum(["queued", "running", "succeeded", "failed", "cancelled"]),
  stage: RunStage,
  created_at: z.string(),
  finished_at: z.string().nullable(),
  /** The live stage's progress (teaching: steps; evaluating: images). */
  progress: Progress.nullable(),
  /** How far the teaching got (steps), whatever stage the run is in. */
  teach_progress: Progress.nullable(),
  /** The latest value of each metric the engine reported (loss, score/0, ...). */
  metrics: z.record(z.string(), z.number()),
  error: z.string().nullable(),
  /** Files the page can offer: the LoRA, the reports, the latest grid (paths inside the run folder). */
  files: z.strictObject({
    lora: z.string().nullable(),
    report_md: z.string().nullable(),
    eval_report_html: z.string().nullable(),
    latest_grid: z.string().nullable(),
  }),
  /** Whether it stopped short with a checkpoint to continue from (the page offers "Resume"). */
  resumable: z.boolean(),
  /** The adapter scale the LoRA is used at (its recipe's training.use_scale, else lora_scale; the "try" slider starts there). */
  use_scale: z.number().nullable(),
  /** The held-out verdict, once the evaluation has run. */
  verdict: z.string().nullable(),
});
export type RunSummary = z.infer<typeof RunSummary>;

export const RunList = z.strictObject({ runs: z.array(RunSummary), active: RunId.nullable() });

export const StartRun = z.strictObject({
  recipe_yaml: z.string().min(1, "the recipe is empty").max(200_000, "the recipe is too long"),
  eval_seeds: z.number().int().min(2).max(64).default(16).describe("Held-out seeds per prompt."),
});
export type StartRun = z.input<typeof StartRun>;

export const Started = z.strictObject({ id: RunId, position: z.number().int().min(0) });
export const Stopping = z.strictObject({ stopping: RunId });

/** Every error the API returns: one line a person can act on. */
export const ApiError = z.strictObject({ error: z.string() });

export const RecipeEntry = z.strictObject({
  name: z.string(),
  description: z.string().nullable(),
  yaml: z.string(),
});
export const RecipeLibrary = z.strictObject({ recipes: z.array(RecipeEntry) });

export const Validated = z.discriminatedUnion("ok", [
  z.strictObject({
    ok: z.literal(true),
    prompts: z.number().int(),
    questions: z.array(z.string()),
    steps: z.number().int(),
  }),
  z.strictObject({ ok: z.literal(false), error: z.string() }),
]);

export const Upload = z.strictObject({
  /** The path to put in the recipe (relative to the studio's runs folder, where studio recipes live). */
  path: z.string(),
  url: z.string(),
  colours: z.array(z.string()),
});

export const GenerateRequest = z.strictObject({
  prompt: z.string().trim().min(1, "the prompt is empty").max(500, "the prompt is too long"),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(0),
  n: z.number().int().min(1).max(16).default(4),
  generator: z.string().min(1).default("scenes-generator"),
  /** Sampling steps; a taught LoRA is tried with its recipe's. */
  num_inference_steps: z.number().int().min(1).max(50).default(1),
  /** Try a taught LoRA: its run, and the scale (0 = the base generator). */
  run: RunId.nullable().default(null),
  lora_scale: z.number().min(0).max(20).default(1),
});
export type GenerateRequest = z.input<typeof GenerateRequest>;
export const Generated = z.strictObject({
  images: z.array(z.string()),
  grid: z.string(),
  /** What the engine warned about, e.g. words of the prompt the generator does not know. */
  warnings: z.array(z.string()),
});

export const ReviewItem = z.strictObject({
  key: z.string(),
  image: z.string(),
  prompt: z.string(),
  seed: z.number(),
  lora_scale: z.number(),
  question: z.string(),
  answer: z.string(),
  /** The question's visual prompt as the recipe gives it (the judge saw the image with it drawn on). */
  visual_prompt: z.record(z.string(), z.unknown()).nullable(),
  /** The training judge's probability of the wanted answer. */
  probability: z.number(),
  mark: z.enum(["right", "wrong"]).nullable(),
});
export type ReviewItem = z.infer<typeof ReviewItem>;
export const Review = z.strictObject({ judge: z.string(), items: z.array(ReviewItem) });
export const ReviewMarks = z.strictObject({
  marks: z.record(z.string().max(200), z.enum(["right", "wrong"]).nullable()),
});

export const Models = z.strictObject({
  generators: z.array(z.strictObject({ name: z.string(), present: z.boolean() })),
  judges: z.array(z.strictObject({ name: z.string(), present: z.boolean() })),
});

/** What the live stream sends (server-sent events, one JSON object per `data:` line). */
export const StudioEvent = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("runs"), runs: z.array(RunSummary), active: RunId.nullable() }),
  z.strictObject({ type: z.literal("run"), run: RunSummary }),
  z.strictObject({ type: z.literal("log"), id: RunId, level: z.string(), message: z.string() }),
]);
export type StudioEvent = z.infer<typeof StudioEvent>;
