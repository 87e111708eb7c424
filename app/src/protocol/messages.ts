/**
 * The wire protocol between the app and engine workers: the one owner of its shape.
 *
 * JSON lines over the worker's stdin (jobs, control) and stdout (events). `npm run protocol:gen` writes the
 * JSON Schemas in ../protocol/schemas from these definitions; the engine validates against those files and a
 * test fails when they drift. Big data (images, weights) travels as file paths, never through the pipe.
 */
import { z } from "zod";
import { Overlay, hexColor } from "./overlay.js";
import { TeachRecipe } from "../recipes/schema.js";

export const PROTOCOL_VERSION = 1;

const jobId = z
  .string()
  .min(1)
  .max(128)
  .describe("Identifier chosen by the app; every event of the job names it.");
const nonNegativeInt = z.number().int().min(0);

// ---------------------------------------------------------------------------------------------- jobs

export const ModelsParams = z
  .strictObject({})
  .describe("List model families, presets and what is present locally.");
export const DoctorParams = z
  .strictObject({})
  .describe("Report the engine's environment: Python, torch, devices.");
export const RenderParams = z
  .strictObject({
    n: z.number().int().min(1).max(100_000).describe("Number of scenes to render."),
    seed: nonNegativeInt.describe("Seed of the batch; scene i uses seed * 1000003 + i."),
    size_px: z.number().int().min(16).max(1024).describe("Side of the square images in pixels."),
    kind: z.enum(["landscape", "lineart"]).nullable().describe("Scene kind, or null for a mix."),
    out_dir: z.string().min(1).describe("Folder to write PNGs, attributes.jsonl and contact_sheet.png into."),
    fixed: z
      .strictObject({
        horizon: z.number().min(0.05).max(0.95).optional(),
        horizon_max: z
          .number()
          .min(0.1)
          .max(0.95)
          .optional()
          .describe("Lowers each horizon above this height to it; the others stay. Landscapes only."),
        stroke_width_px: z.number().gt(0).max(64).optional(),
        palette: z
          .array(hexColor)
          .min(4)
          .max(6)
          .optional()
          .describe("The Scenes world paints with 4 to 6 colours."),
        sky: z.enum(["day", "sunset", "night", "overcast"]).optional().describe("Landscapes only."),
      })
      .optional()
      .describe(
        "Attributes to set; the rest of each scene stays as the seed draws it (counterfactual twins).",
      ),
  })
  .describe("Render Scenes with their ground-truth attributes.");

export const QA_FAMILIES = [
  "horizon_line",
  "horizon_band",
  "palette_match",
  "stroke_width",
  "relative_depth",
  "object_presence",
  "object_count",
  "object_color",
  "sky",
  "time_of_day",
  "layout_match",
] as const;

export const QaParams = z
  .strictObject({
    n: z.number().int().min(1).max(100_000).describe("Number of scenes to render and ask about."),
    seed: nonNegativeInt.describe("Seed of the scenes and of the questions."),
    size_px: z.number().int().min(16).max(1024).describe("Side of the square images in pixels."),
    kind: z.enum(["landscape", "lineart"]).nullable().describe("Scene kind, or null for a mix."),
    families: z.array(z.enum(QA_FAMILIES)).min(1).nullable().describe("Question families, or null for all."),
    per_scene: z.number().int().min(1).max(16).describe("Questions per scene and family."),
    phrasing_split: z
      .enum(["train", "heldout", "all"])
      .describe(
        "Which phrasings to word questions with; the held-out ones are kept from the training judge.",
      ),
    overlay_images: z
      .boolean()
      .describe("Also write each question's image with its visual prompt composited."),
    out_dir: z.string().min(1).describe("Folder for the scenes, attributes.jsonl and qa.jsonl."),
  })
  .describe("Render Scenes and write balanced yes/no questions with exact answers about them.");

export const AskParams = z
  .strictObject({
    images: z.array(z.string().min(1)).min(1).describe("Paths of PNG or JPEG images."),
    question: z.string().min(1).describe("The question, as a person would ask it."),
    answer: z.string().min(1).describe("The answer whose probability is wanted."),
    overlay: Overlay.nullable().describe("Visual prompt drawn over each image first, or null."),
    judge: z.string().min(1).describe("Judge preset name or folder."),
  })
  .describe("Ask the judge a question about images: the probability of the answer for each.");

export const GenerateParams = z
  .strictObject({
    prompt: z.string().min(1).describe("The text prompt."),
    n: z.number().int().min(1).max(10_000).describe("Number of images."),
    seed: nonNegativeInt.describe("Seed of the noises."),
    num_inference_steps: z.number().int().min(1).max(1000).describe("Sampling steps."),
    generator: z.string().min(1).describe("Generator preset name or folder."),
    lora: z.string().min(1).nullable().describe("A LoRA file or teach run folder to fuse in, or null."),
    lora_scale: z.number().describe("Adapter scale the LoRA is fused at."),
    guidance_scale: z
      .number()
      .gt(0)
      .nullable()
      .describe("The generator's guidance where it has one; null: the family's default."),
    resolution_px: z
      .number()
      .int()
      .min(16)
      .max(4096)
      .nullable()
      .optional()
      .describe(
        "Side of the images where the family can draw other sizes (FLUX, SD3, SDXL, SD, Sana); null or " +
          "absent: the model's own. The embedded generator draws the size it was trained at.",
      ),
    out_dir: z.string().min(1).describe("Folder for the PNGs and grid.png."),
  })
  .describe("Generate images from a prompt.");

const trainCommon = {
  out_dir: z.string().min(1).describe("Run folder; training resumes from its last checkpoint."),
  seed: nonNegativeInt.describe("Seed of the model's initialisation and data."),
  max_train_steps: z.number().int().min(1).max(10_000_000).describe("Optimiser steps."),
};
export const TrainJudgeParams = z
  .strictObject({
    ...trainCommon,
    phrasing_split: z
      .enum(["train", "heldout"])
      .describe("Phrasings to train on (heldout: the evaluation judge)."),
    vision: z
      .enum(["resnet", "bit"])
      .describe("Vision tower of the judge: resnet (the training judge) or bit (the held-out judge)."),
    init_from: z
      .string()
      .min(1)
      .optional()
      .describe("A trained judge's folder to fine-tune (its words and weights) instead of a new judge."),
    generated_pools: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe("Pools of measured generated images (judge_pool jobs) to train on besides the renders."),
    generated_share: z
      .number()
      .min(0)
      .lt(1)
      .optional()
      .describe("Share of each batch drawn from the generated pools (default 0.3)."),
    generated_families: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe(
        "Question families the generated pools are asked (e.g. relative_depth); default every family they can answer.",
      ),
    learning_rate: z.number().gt(0).max(1).optional().describe("Peak AdamW learning rate."),
    max_share: z
      .number()
      .gt(0)
      .max(1)
      .optional()
      .describe("Greatest share of a rendered batch one question family may take (default 0.3)."),
    word_dropout: z
      .number()
      .min(0)
      .lt(1)
      .optional()
      .describe(
        "Probability that each word of a training question is replaced by one the judge does not know (default 0).",
      ),
    recolored_palette_share: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe(
        "Share of rendered palette questions asked again of the scene repainted in some of the strip's colours (default 0).",
      ),
    tiled_palette_share: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe(
        "Share of plain rendered palette questions asked again with the swatches tiled over the image (overlay layout tiles) (default 0).",
      ),
    attacked_palette_share: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe(
        "Palette pictures added to each batch, as a share of it, pushed to change the judge's answer and answered again by their pixels (default 0).",
      ),
    family_weights: z
      .record(z.string().min(1), z.number().gt(0).max(1000))
      .optional()
      .describe(
        "Factor by question family (e.g. relative_depth: 10) on its running loss when the rendered batch is shared out (default 1 each).",
      ),
  })
  .describe("Train an embedded Scenes judge.");
export const JudgePoolParams = z
  .strictObject({
    out: z.string().min(1).describe("Pool file to write."),
    seed: nonNegativeInt.describe("Seed of the pool's captions and noises."),
    n_per_source: z.number().int().min(2).max(100_000).describe("Images per source."),
    base_sources: nonNegativeInt.describe("Sources of the base generator alone."),
    generator: z
      .string()
      .min(1)
      .default("scenes-generator")
      .describe("The generator the pool draws with (its LoRAs must be taught on it): a preset or folder."),
    loras: z
      .array(
        z.strictObject({
          name: z.string().min(1),
          run: z.string().min(1).describe("A teach run folder or LoRA file."),
        }),
      )
      .describe("Taught LoRAs; each is a source at scale 0.5 and one at scale 1."),
  })
  .describe("Generate images (base and through taught LoRAs) and measure them, for judge training.");
export const TrainGeneratorParams = z
  .strictObject({ ...trainCommon })
  .describe("Train the embedded generator.");

export const TeachParams = z
  .strictObject({
    recipe: TeachRecipe,
    recipe_dir: z.string().describe("Folder of the recipe file; image visual prompts are relative to it."),
    out_dir: z.string().min(1).describe("The run folder."),
    resume: z.boolean().describe("Continue from the last checkpoint in out_dir."),
  })
  .describe("Teach the generator a control: train a LoRA from the judge's answers.");

export const BENCH_SCALES = ["embedded", "tiny", "full"] as const;
export const BenchTeachParams = z
  .strictObject({
    steps: z.number().int().min(1).max(10_000).describe("Timed steps per loop, after one warm-up step each."),
    scale: z
      .enum(BENCH_SCALES)
      .optional()
      .describe(
        "embedded (when absent): the embedded models' sizes; full: FLUX.1-schnell + Qwen2.5-VL-7B at their published " +
          "sizes, random weights, bf16, 512 px (CUDA only); tiny: the code of full on tiny configs.",
      ),
  })
  .describe(
    "Steps/s and peak memory of the teach loop against a reference-style loop, same models, same run.",
  );

export const EvaluateParams = z
  .strictObject({
    recipe: TeachRecipe,
    recipe_dir: z.string().describe("Folder of the recipe file; image visual prompts are relative to it."),
    lora: z.string().min(1).describe("The taught LoRA: a teach run folder or its safetensors file."),
    prompts: z.array(z.string().min(1)).min(1).describe("Held-out prompts."),
    seeds: z.array(nonNegativeInt).min(1).describe("Held-out seeds: one image per prompt, seed and scale."),
    lora_scales: z.array(z.number()).min(1).describe("Adapter scales; 0 is the base model."),
    judges: z
      .array(z.string().min(1))
      .min(1)
      .describe("Judges that answer the recipe's questions: the training judge and held-out ones."),
    out_dir: z.string().min(1).describe("Folder for images/, grids/."),
  })
  .describe("Held-out images of a taught LoRA at each scale, and each judge's answers about them.");

export const ReadingsParams = z
  .strictObject({ questions: z.array(z.string()).min(1).describe("Questions as a recipe words them.") })
  .describe("What each question asks in the Scenes world, where it is worded as one of its phrasings.");

const job = <K extends string, P extends z.ZodType>(kind: K, params: P) =>
  z.strictObject({ type: z.literal("job"), id: jobId, kind: z.literal(kind), params });

export const Job = z.discriminatedUnion("kind", [
  job("models", ModelsParams),
  job("doctor", DoctorParams),
  job("render", RenderParams),
  job("qa", QaParams),
  job("ask", AskParams),
  job("generate", GenerateParams),
  job("train_judge", TrainJudgeParams),
  job("judge_pool", JudgePoolParams),
  job("train_generator", TrainGeneratorParams),
  job("teach", TeachParams),
  job("bench_teach", BenchTeachParams),
  job("evaluate", EvaluateParams),
  job("readings", ReadingsParams),
]);
export type Job = z.infer<typeof Job>;
export type JobKind = Job["kind"];

export const Cancel = z
  .strictObject({ type: z.literal("cancel"), id: jobId })
  .describe("Stop the job at its next safe point; it ends with an error event of code 'cancelled'.");
export const Shutdown = z.strictObject({ type: z.literal("shutdown") }).describe("Finish and exit.");

/** Everything the app may write to a worker's stdin. */
export const Request = z.union([Job, Cancel, Shutdown]);
export type Request = z.infer<typeof Request>;

// -------------------------------------------------------------------------------------------- results

const ModelPreset = z.strictObject({
  name: z.string().describe("Preset name used in recipes and on the command line."),
  family: z.string().describe("Adapter family, e.g. 'flux' or 'qwen2.5-vl'."),
  role: z.enum(["generator", "judge"]),
  source: z.string().describe("Hugging Face repo id, or 'embedded' for models shipped with the engine."),
  present: z.boolean().describe("Whether the weights are on this machine (HF cache or shipped)."),
  path: z.string().nullable().describe("Where the weights were found, if present."),
  memory_gb: z.number().nullable().describe("Approximate memory for training in bf16, if known."),
});
export const ModelsResult = z.strictObject({ models: z.array(ModelPreset) });

export const DoctorResult = z.strictObject({
  engine_version: z.string(),
  protocol_version: z.number().int(),
  python: z.string(),
  python_executable: z.string(),
  platform: z.string(),
  torch: z.string().nullable().describe("torch version, or null when torch cannot be imported."),
  cuda_devices: z.array(z.strictObject({ index: nonNegativeInt, name: z.string(), memory_gb: z.number() })),
  packages: z
    .record(z.string(), z.string().nullable())
    .describe("Versions of optional packages, null if absent."),
  hf_cache: z.string().describe("The Hugging Face cache folder that is searched for models."),
  hub_kernels: z
    .boolean()
    .describe(
      "Whether transformers may swap layers for kernels from the Hugging Face Hub (USE_HUB_KERNELS; off unless the user set it).",
    ),
});

export const RenderResult = z.strictObject({
  out_dir: z.string(),
  count: nonNegativeInt.describe("Images written (fewer than asked only if cancelled)."),
  attributes: z.string().describe("Path of attributes.jsonl."),
  contact_sheet: z.string().nullable(),
});

export const QaResult = z.strictObject({
  out_dir: z.string(),
  scenes: nonNegativeInt,
  questions: nonNegativeInt,
  qa: z.string().describe("Path of qa.jsonl."),
});

export const AskResult = z.strictObject({
  answers: z.array(z.strictObject({ path: z.string(), probability: z.number().min(0).max(1) })),
  asked_as: z
    .string()
    .describe(
      "The question as the judge was asked it: a Scenes judge reads a Scenes question in its own words.",
    ),
});
export const GenerateResult = z.strictObject({
  out_dir: z.string(),
  count: nonNegativeInt,
  grid: z.string(),
});
export const TrainResult = z.strictObject({
  out_dir: z.string(),
  summary: z.record(z.string(), z.unknown()).describe("What the trainer reports: steps, time, accuracies."),
});

export const JudgePoolResult = z.strictObject({
  out: z.string(),
  images: nonNegativeInt,
  counts: z
    .record(z.string(), nonNegativeInt)
    .describe("Images whose horizon / sky / stroke the measurers read, or where they found none."),
});

export const TeachResult = z.strictObject({
  out_dir: z.string(),
  lora: z.string().describe("Path of pytorch_lora_weights.safetensors."),
  steps: nonNegativeInt,
  summary: z.record(z.string(), z.unknown()).describe("What the loop reports: final scores, time, files."),
});

export const EvaluateResult = z.strictObject({
  out_dir: z.string(),
  questions: z.array(z.string()).describe("The recipe's questions, in order."),
  keep: z
    .array(z.string())
    .optional()
    .describe("The recipe's keep questions, in order; absent where it has none."),
  images: z.array(
    z.strictObject({
      path: z.string(),
      prompt_index: nonNegativeInt,
      prompt: z.string(),
      seed: nonNegativeInt,
      lora_scale: z.number(),
    }),
  ),
  grids: z
    .array(z.string())
    .describe("One before/after grid per prompt: a row per scale, a column per seed."),
  judges: z.array(
    z.strictObject({
      judge: z.string(),
      asked_as: z
        .array(z.string())
        .optional()
        .describe(
          "Each question as this judge was asked it: a Scenes judge reads a Scenes question in its own " +
            "words (absent from runs evaluated before this field).",
        ),
      probabilities: z
        .array(z.array(z.number().min(0).max(1).nullable()))
        .describe(
          "[image][question]: the probability of the wanted answer; null where the question is asked only " +
            "of other prompts' images.",
        ),
      keep_asked_as: z
        .array(z.string())
        .optional()
        .describe("Each keep question as this judge was asked it; absent where the recipe has none."),
      keep_probabilities: z
        .array(z.array(z.number().min(0).max(1)))
        .optional()
        .describe(
          "[image][keep question]: the probability of Yes between Yes and No; absent where the recipe has " +
            "no keep questions.",
        ),
    }),
  ),
});

export const ReadingsResult = z.strictObject({
  readings: z
    .array(
      z
        .strictObject({ family: z.string(), variant: z.string().nullable() })
        .nullable()
        .describe(
          "A QA family and variant (null for a family worded without variants); null: no Scenes wording.",
        ),
    )
    .describe("Per question, in order."),
});

const LoopTiming = z.strictObject({
  steps_per_s: z.number().describe("1 / the median seconds per step."),
  peak_memory_mb: z
    .number()
    .nullable()
    .describe("Peak GPU memory allocated during a step (MiB); null on CPU, where it is not measured."),
  checkpointing: z.boolean().describe("Whether this loop recomputed activations in backward."),
});
const BenchSetting = z.strictObject({
  questions: nonNegativeInt,
  pictures: nonNegativeInt.describe("Distinct visual prompts (or none) among the questions."),
  ours: LoopTiming,
  reference: LoopTiming.describe("One full judge pass per question, no checkpointing."),
  speedup: z.number().describe("ours / reference, steps per second."),
});
export const BenchTeachResult = z.strictObject({
  scale: z.enum(BENCH_SCALES),
  device: z.string().describe("'cpu', or the CUDA device's name."),
  generator: z.string().describe("The generator that ran: architecture, weights, dtype."),
  judge: z.string().describe("The judge that ran: architecture, weights, dtype."),
  resolution_px: z.number().int().min(1),
  steps: nonNegativeInt.describe("Timed steps per loop and setting."),
  settings: z.array(BenchSetting).min(1).describe("One timing of both loops per number of questions."),
});

// --------------------------------------------------------------------------------------------- events

const event = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.strictObject({ type: z.literal(type), ...shape });
const jobRef = jobId.nullable().describe("The job this event belongs to, or null for the worker itself.");

export const ErrorCode = z.enum([
  "bad_request", // the message does not follow the protocol: an app bug
  "invalid_input", // a user mistake: a bad value, a missing file
  "model_missing", // weights not found locally
  "out_of_memory",
  "cancelled",
  "internal", // an engine bug; the message carries the exception, stderr the traceback
]);

const resultEvent = <K extends JobKind, R extends z.ZodType>(kind: K, result: R) =>
  event("result", { job: jobId, kind: z.literal(kind), result });

export const Event = z.union([
  event("ready", {
    engine_version: z.string(),
    protocol_version: z.number().int(),
    pid: z.number().int(),
  }),
  event("progress", {
    job: jobId,
    done: nonNegativeInt,
    total: nonNegativeInt.nullable(),
    unit: z.string().describe("What is counted, e.g. 'images' or 'steps'."),
    message: z.string().nullable(),
  }),
  event("metric", { job: jobId, name: z.string(), value: z.number(), step: nonNegativeInt.nullable() }),
  event("artifact", {
    job: jobId,
    path: z.string(),
    kind: z.enum(["image", "grid", "table", "weights", "checkpoint", "report", "file"]),
    description: z.string().nullable(),
  }),
  event("log", {
    job: jobRef,
    level: z.enum(["debug", "info", "warning", "error"]),
    message: z.string(),
  }),
  z.discriminatedUnion("kind", [
    resultEvent("models", ModelsResult),
    resultEvent("doctor", DoctorResult),
    resultEvent("render", RenderResult),
    resultEvent("qa", QaResult),
    resultEvent("ask", AskResult),
    resultEvent("generate", GenerateResult),
    resultEvent("train_judge", TrainResult),
    resultEvent("judge_pool", JudgePoolResult),
    resultEvent("train_generator", TrainResult),
    resultEvent("teach", TeachResult),
    resultEvent("bench_teach", BenchTeachResult),
    resultEvent("evaluate", EvaluateResult),
    resultEvent("readings", ReadingsResult),
  ]),
  event("error", { job: jobRef, code: ErrorCode, message: z.string().describe("One line, for a person.") }),
]);
export type Event = z.infer<typeof Event>;
export type ResultOf<K extends JobKind> = Extract<Event, { type: "result"; kind: K }>["result"];
export type ParamsOf<K extends JobKind> = Extract<Job, { kind: K }>["params"];
/** The events a job emits while it runs (its result or error settles the job instead). */
export type JobEvent = Extract<Event, { type: "progress" | "metric" | "artifact" | "log" }>;
