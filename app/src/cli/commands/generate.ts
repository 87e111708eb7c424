import { resolve } from "node:path";
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { runEngineJob } from "../engine-job.js";
import { integer, nonEmpty, number } from "../options.js";
import {
  trainedGenerator,
  trainedGuidance,
  trainedResolution,
  useScale,
  trainedSteps,
} from "../../runs/lora.js";

export interface GenerateOptions {
  prompt: string;
  n: number;
  seed: number;
  numInferenceSteps?: number;
  generator?: string;
  lora?: string;
  loraScale?: number;
  guidanceScale?: number;
  size?: number;
  out: string;
}

export function generateCommand(context: CliContext): Command {
  return context
    .command("generate", "generate images from a prompt: one PNG each and a grid")
    .requiredOption("--prompt <text>", "the text prompt", nonEmpty("a prompt"))
    .option("--n <count>", "number of images", integer(1, 10_000), 16)
    .option("--seed <seed>", "seed of the noises", integer(0), 0)
    .option(
      "--num-inference-steps <steps>",
      "sampling steps (default: the steps the LoRA was taught with, else 1)",
      integer(1, 1000),
    )
    .option(
      "--generator <name>",
      `generator preset or folder (default: the one the LoRA was taught on, else ${DEFAULT_GENERATOR})`,
      nonEmpty("a generator"),
    )
    .option("--lora <path>", "a taught LoRA: a teach run folder or its pytorch_lora_weights.safetensors")
    .option("--lora-scale <s>", "adapter scale (default: the scale the run uses it at, else 1)", number)
    .option(
      "--guidance-scale <g>",
      "guidance, where the generator has it (SD3, Sana: classifier-free; FLUX.1-dev, Sana-Sprint: embedded); " +
        "default: the LoRA's recipe's, else the family's",
      number,
    )
    .option(
      "--size <px>",
      "image side where the generator can draw other sizes (FLUX, SD3, SDXL, SD, Sana); " +
        "default: the size the LoRA was taught at, else the model's own",
      integer(16, 4096),
    )
    .requiredOption("--out <dir>", "output folder (also holds run.json and events.jsonl)")
    .action(async (options: GenerateOptions, self: Command) => {
      const console = context.consoleFor(self);
      const params = generateParams(options);
      const result = await runEngineJob(console, "generate", params, { runDir: params.out_dir });
      console.result(`wrote ${result.count} images to ${result.out_dir} (grid: ${result.grid})`);
    });
}

const DEFAULT_GENERATOR = "scenes-generator";

/**
 * The engine's generate parameters. A taught LoRA is used as it was taught, unless told otherwise: on its
 * generator, at its sampling steps, scale, guidance and size (a LoRA taught at 2 steps may do nothing at 1).
 */
export function generateParams(options: GenerateOptions) {
  const lora = options.lora;
  const taught = <T>(read: (run: string) => T | undefined): T | undefined => (lora ? read(lora) : undefined);
  return {
    prompt: options.prompt,
    n: options.n,
    seed: options.seed,
    num_inference_steps: options.numInferenceSteps ?? taught(trainedSteps) ?? 1,
    generator: options.generator ?? taught(trainedGenerator) ?? DEFAULT_GENERATOR,
    lora: lora ? resolve(lora) : null,
    lora_scale: options.loraScale ?? useScale(lora) ?? 1,
    guidance_scale: options.guidanceScale ?? trainedGuidance(lora) ?? null,
    resolution_px: options.size ?? trainedResolution(lora) ?? null,
    out_dir: resolve(options.out),
  };
}
