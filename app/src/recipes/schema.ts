/**
 * The control recipe: what to teach (prompts, questions with wanted answers, visual prompts), with which
 * models, how to evaluate, and the training settings. The one owner of the recipe's shape; every field
 * carries its description (shown by `dualproc recipe fields` and in docs/recipes.md).
 *
 * Field names are those of diffusers/peft/the paper (`max_train_steps`, `learning_rate`, `lora_rank`) and the
 * same words the protocol and the engine use.
 */
import { z } from "zod";
import {
  HorizonOverlay,
  LayoutOverlay,
  PaletteOverlay,
  PointsOverlay,
  StrokeOverlay,
  overlayMode,
} from "../protocol/overlay.js";

/** The visual prompts drawn from numbers (no file of the user's own). */
const DRAWN_OVERLAYS = [HorizonOverlay, PaletteOverlay, StrokeOverlay, PointsOverlay, LayoutOverlay] as const;

const visualPrompt = z
  .discriminatedUnion("kind", [
    ...DRAWN_OVERLAYS,
    z.strictObject({
      kind: z.literal("image").describe("A reference image of your own, laid over the generated image."),
      path: z.string().min(1).describe("Path of a PNG or JPEG, relative to the recipe file."),
      mode: overlayMode,
    }),
    z.strictObject({
      kind: z
        .literal("palette_from_image")
        .describe(
          "A palette strip of the dominant colours of a picture of your own (read when the recipe loads).",
        ),
      path: z.string().min(1).describe("Path of a PNG or JPEG, relative to the recipe file."),
      count: z.number().int().min(2).max(8).default(5).describe("How many colours to take."),
      mode: overlayMode,
    }),
  ])
  .describe("A visual prompt composited onto the image before the judge sees it.");

const question = z
  .strictObject({
    question: z
      .string()
      .trim()
      .min(1, "must not be empty")
      .describe("What the judge is asked about the image."),
    answer: z.string().min(1).default("Yes").describe("The wanted answer; any string, 'Yes' by default."),
    weight: z.number().min(0).default(1).describe("Relative weight of this question in the objective."),
    visual_prompt: visualPrompt.optional(),
    pair_weight: z
      .number()
      .min(0)
      .default(0)
      .describe(
        "For a palette question: also ask it with strips of two of its colours (each darker one with a " +
          "lighter one), each at this weight, so that one colour alone passes less easily; it helped some " +
          "palettes and hurt others, so teach with and without it (docs/teach.md). 0: not asked.",
      ),
    when: z
      .record(z.string(), z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]))
      .optional()
      .describe(
        "Ask this question only of images whose prompt has these slot values, e.g. {sky: night} or " +
          "{sky: [night, sunset]}. A question or answer may also name a slot, 'Is the sky {sky}?': it is " +
          "then asked of each prompt with that prompt's own value.",
      ),
  })
  .describe("One question with its wanted answer.");

/** A question whose answer should stay what it was: asked of each taught image and of the base model's
 * image from the same prompt and noise, the judge's Yes-or-No odds on the first held to those on the second. */
const keepQuestion = z
  .strictObject({
    question: z
      .string()
      .trim()
      .min(1, "must not be empty")
      .describe("A yes/no question about something the control should not change."),
    weight: z.number().min(0).default(1).describe("Relative weight of this question among the kept ones."),
    visual_prompt: z
      .discriminatedUnion("kind", [...DRAWN_OVERLAYS])
      .optional()
      .describe("A visual prompt drawn on both images before the judge sees them."),
  })
  .describe("A question whose answer (Yes or No) the taught image keeps from the base model's image.");

/** A question as the engine receives it: slots filled in, with the prompts it is asked of. */
const teachQuestion = question.omit({ when: true, pair_weight: true }).extend({
  prompts: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe("Asked only of images of these prompts (from `when` or a {slot}); absent: of every image."),
  pair_of: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe(
      "Set on a question asked with a pair of a palette question's colours (its `pair_weight`): the index " +
        "of that question in the recipe. Not a control of its own in the evaluation.",
    ),
});

const promptTemplate = z
  .strictObject({
    template: z.string().min(1).describe("Text with {slot} placeholders, e.g. 'a {sky} landscape'."),
    slots: z
      .record(z.string(), z.array(z.string()).min(1))
      .describe("Values for each placeholder; the prompts are every combination."),
  })
  .describe("A prompt template expanded into every combination of its slot values.");

const prompts = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1), promptTemplate])
  .describe("One prompt, a list of prompts, or a template with slots.");

const evaluation = z
  .strictObject({
    prompts: prompts.optional().describe("Held-out prompts for evaluation; default: the training prompts."),
    seeds: z
      .array(z.number().int().min(0))
      .min(1)
      .default([0, 1, 2, 3, 4])
      .describe("Noise seeds per prompt."),
    lora_scales: z
      .array(z.number())
      .min(1)
      .default([0, 5])
      .describe(
        "Adapter scales of the evaluation grids drawn while teaching; 0 is the base generator. Without it: " +
          "0 and training.lora_scale.",
      ),
  })
  .describe("How the taught control is evaluated.");

/** What `training.gradient_checkpointing` can name (the engine's `CHECKPOINT_PARTS`). */
export const CHECKPOINT_PARTS = ["generator", "decoder", "judge"] as const;
const CHECKPOINT_PARTS_ERROR =
  `expected true, false or a list of the parts to checkpoint (${CHECKPOINT_PARTS.join(", ")}), ` +
  "each named once";

const training = z
  .strictObject({
    max_train_steps: z.number().int().min(1).max(1_000_000).default(100).describe("Optimiser steps."),
    learning_rate: z.number().gt(0).max(1).default(5e-5).describe("AdamW learning rate."),
    lora_rank: z.number().int().min(1).max(1024).default(16).describe("LoRA rank."),
    lora_alpha: z.number().gt(0).default(8).describe("LoRA alpha (the scaling is alpha / rank)."),
    lora_scale: z.number().gt(0).default(5).describe("Adapter scale the LoRA is trained at."),
    use_scale: z
      .number()
      .gt(0)
      .nullable()
      .default(null)
      .describe(
        "Adapter scale the taught LoRA is used at: by the evaluation, the grids and early stopping while " +
          "teaching, `dualproc generate --lora` and the studio; a LoRA used below its full strength often " +
          "keeps the control and drifts less. null: lora_scale.",
      ),
    lora_target_modules: z
      .array(z.string().min(1))
      .nullable()
      .default(null)
      .describe("Module names to adapt; null: the family's attention and MLP linears."),
    train_batch_size: z.number().int().min(1).max(1024).default(1).describe("Images per step."),
    gradient_accumulation_steps: z
      .number()
      .int()
      .min(1)
      .default(1)
      .describe("Steps to accumulate gradients."),
    num_inference_steps: z.number().int().min(1).max(1000).default(1).describe("Generator sampling steps."),
    backprop_steps: z
      .number()
      .int()
      .min(1)
      .default(1)
      .describe("Sampling steps that carry gradient (1 = the paper's single differentiable step)."),
    noise_pool_size: z
      .number()
      .int()
      .min(1)
      .default(100)
      .describe("Size of the fixed pool of training noises."),
    max_grad_norm: z.number().gt(0).default(1).describe("Gradient-norm clipping threshold."),
    resolution_px: z
      .number()
      .int()
      .min(16)
      .max(4096)
      .default(512)
      .describe(
        "Side of generated images in pixels: a multiple of 16 for FLUX and SD3, 32 for SDXL and Sana, 64 " +
          "for SD 2.x; the embedded generator draws the 64 px it was trained at.",
      ),
    gradient_checkpointing: z
      .union(
        [
          z.boolean(),
          z
            .array(z.enum(CHECKPOINT_PARTS))
            .min(1, { error: CHECKPOINT_PARTS_ERROR })
            .refine((parts) => new Set(parts).size === parts.length, { error: CHECKPOINT_PARTS_ERROR }),
        ],
        { error: CHECKPOINT_PARTS_ERROR },
      )
      .default(false)
      .describe(
        "Trade compute for memory: true recomputes activations in backward in all three models, or a list " +
          "names the parts (generator, decoder, judge); measured on FLUX.1-schnell + Qwen2.5-VL-7B, the " +
          "decoder saves the most per second (docs/benchmarks.md).",
      ),
    mixed_precision: z.enum(["no", "bf16", "fp16"]).default("no").describe("Autocast precision on GPU."),
    guidance_scale: z
      .number()
      .gt(0)
      .nullable()
      .default(null)
      .describe(
        "The generator's guidance, where it has one (classifier-free for SD3 and Sana, the guidance " +
          "embedding of FLUX.1-dev and Sana-Sprint); null: the family's default.",
      ),
    judge_device: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe("Device of the judge, e.g. cuda:1 to put it on a second GPU; null: the generator's."),
    judge_quantization: z
      .enum(["none", "8bit", "4bit"])
      .default("none")
      .describe("Store the training judge's language model in 8 or 4 bits (bitsandbytes, CUDA only)."),
    vae_tiling: z
      .boolean()
      .default(false)
      .describe("Decode with VAE slicing and tiling (less memory), where the generator has a VAE."),
    offload_text_encoders: z
      .boolean()
      .default(false)
      .describe("Move the text encoders to the CPU once every prompt is encoded (FLUX's and SD3's T5)."),
    preserve_weight: z
      .number()
      .min(0)
      .default(0)
      .describe("Weight of the regulariser that keeps unrelated prompts close to the base model; 0 = off."),
    preserve_palette_weight: z
      .number()
      .min(0)
      .default(0)
      .describe(
        "Weight of the regulariser that keeps each taught image's colours (their distribution, not where " +
          "they sit) close to the base model's image from the same prompt and noise; 0 = off.",
      ),
    preserve_layout_weight: z
      .number()
      .min(0)
      .default(0)
      .describe(
        "Weight of the regulariser that keeps each taught image's layout of light and dark (where the " +
          "horizon, sky and objects sit and how much lighter one is than another, not their colours) close " +
          "to the base model's image from the same prompt and noise; for a control of colour such as a " +
          "palette. 0 = off.",
      ),
    keep_weight: z
      .number()
      .min(0)
      .default(1)
      .describe(
        "Weight of the recipe's `keep` questions: how strongly each taught image keeps the judge's answers " +
          "about its base image; 0: they do not teach, and are asked only by the evaluation (a drift check).",
      ),
    preserve_diversity_weight: z
      .number()
      .min(0)
      .default(0)
      .describe(
        "Weight of the regulariser that keeps the taught images of a batch as different from one another " +
          "as the base model's images from the same prompts and noises (against the collapse to one look); " +
          "needs train_batch_size >= 2. 0 = off.",
      ),
    judge_augment: z
      .array(z.enum(["hflip", "vflip", "shuffle"]))
      .default([])
      .describe(
        "Random views the training judge sees instead of each image: hflip and vflip mirror it, shuffle " +
          "swaps its quadrants. Only the views the answer does not depend on: all three for a palette; " +
          "hflip for a horizon; none for a layout. Keeps the generator from painting just where the judge looks.",
      ),
    early_stopping_patience: z
      .number()
      .int()
      .min(1)
      .nullable()
      .default(null)
      .describe(
        "Stop when the held-out judge's score on the evaluation images has not risen for this many " +
          "evaluations (one per checkpointing_steps) and keep the best LoRA; null = off. Needs heldout_judge.",
      ),
    checkpointing_steps: z
      .number()
      .int()
      .min(1)
      .default(50)
      .describe("Save a resumable checkpoint every N steps."),
    max_nan_steps: z.number().int().min(1).default(5).describe("Stop after this many steps with a NaN loss."),
    seed: z.number().int().min(0).default(0).describe("Seed of the whole run."),
  })
  .describe(
    "Training settings (defaults follow the paper's code; with the embedded scenes-generator, the ones " +
      "its library recipes use).",
  );

export const Recipe = z
  .strictObject({
    name: z.string().min(1).max(80).optional().describe("A short name, used for run folders."),
    description: z.string().optional().describe("What the control does, for people."),
    generator: z
      .string()
      .min(1)
      .default("scenes-generator")
      .describe("Generator: preset, repo id or local path."),
    judge: z
      .string()
      .min(1)
      .default("scenes-judge")
      .describe("Training judge: preset, repo id or local path."),
    co_judges: z
      .array(z.string().min(1))
      .default([])
      .describe(
        "More training judges (presets, repo ids or local paths): the loss averages each wanted answer's " +
          "log-probability over `judge` and these, so a picture must satisfy all of them. None may be the " +
          "heldout_judge, which must stay a judge the LoRA was not taught by.",
      ),
    keep_judge: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe(
        "The judge the `keep` questions are asked of (preset, repo id or local path); null: the training " +
          "judge. Another judge than the one that teaches the control is harder to fool: asked of the " +
          "training judge, the embedded world's LoRAs learn to keep its answers without keeping the scene " +
          "(docs/teach.md). Not the heldout_judge, which must stay a judge the LoRA was not taught by.",
      ),
    heldout_judge: z
      .string()
      .min(1)
      .nullable()
      .default("scenes-judge-heldout")
      .describe("Judge used only for evaluation, never for training; null to skip."),
    prompts,
    questions: z.array(question).min(1).max(32).describe("The questions, each with its wanted answer."),
    keep: z
      .array(keepQuestion)
      .max(16)
      .default([])
      .describe(
        "Questions whose answers should not change: each taught image is asked them beside the base " +
          "model's image from the same prompt and noise, and the judge's odds of Yes against No on the " +
          "first are held to those on the second (weighted by training.keep_weight), e.g. 'Is the horizon " +
          "low in the image?' for a control of the time of day.",
      ),
    eval: evaluation.prefault({}),
    training: training.prefault({}),
  })
  .describe("A control recipe for `dualproc teach`.");

export type RecipeInput = z.input<typeof Recipe>;
export type Recipe = z.output<typeof Recipe>;

const promptList = z.array(z.string().min(1)).min(1);

/** Questions after every {slot} is filled in (each is one more language-model pass per image). */
export const MAX_ASKED_QUESTIONS = 128;

/** The recipe as the engine receives it: every default filled in, prompt templates expanded to lists. */
export const TeachRecipe = Recipe.extend({
  prompts: promptList.describe("The training prompts, templates expanded."),
  questions: z
    .array(teachQuestion)
    .min(1)
    .max(MAX_ASKED_QUESTIONS)
    .describe("The questions, each {slot} filled in once per value the training prompts give it."),
  eval: evaluation.extend({ prompts: promptList.describe("The evaluation prompts, templates expanded.") }),
});
export type TeachRecipe = z.output<typeof TeachRecipe>;
