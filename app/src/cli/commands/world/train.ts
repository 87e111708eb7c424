import { resolve } from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import type { CliContext } from "../../context.js";
import { runEngineJob } from "../../engine-job.js";
import { choice, integer, nonEmpty, numberBetween } from "../../options.js";

const RESUME_NOTE =
  "\nTraining resumes from the last checkpoint in --out; Ctrl-C saves a checkpoint and stops.";

interface TrainOptions {
  out: string;
  seed: number;
  maxTrainSteps: number;
}

function withTrainOptions(command: Command, defaultSteps: number): Command {
  return command
    .requiredOption("--out <dir>", "run folder (checkpoints, logs, the trained model)")
    .option("--seed <seed>", "seed of the initialisation and the data", integer(0), 0)
    .option("--max-train-steps <steps>", "optimiser steps", integer(1, 10_000_000), defaultSteps)
    .addHelpText("after", RESUME_NOTE);
}

/** `--family-weight relative_depth=10`, repeatable: the factors by family (the engine knows the families). */
export function parseFamilyWeight(
  value: string,
  previous: Record<string, number> = {},
): Record<string, number> {
  const match = /^([A-Za-z_]+)=([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)$/.exec(value.trim());
  const family = match?.[1];
  const factor = Number(match?.[2]);
  if (family === undefined || !(factor > 0 && factor <= 1000)) {
    throw new InvalidArgumentError(
      `expected FAMILY=FACTOR with a factor in (0, 1000], e.g. relative_depth=10; got ${value}`,
    );
  }
  return { ...previous, [family]: factor };
}

export function trainJudgeCommand(context: CliContext): Command {
  const command = context.command(
    "train-judge",
    "train an embedded Scenes judge (a tiny FastVLM-layout VLM with a ResNet or BiT tower) on Scenes QA",
  );
  return withTrainOptions(command, 1500)
    .option(
      "--phrasings <split>",
      "phrasings to train on: train, or heldout for the evaluation judge",
      choice(["train", "heldout"] as const),
      "train",
    )
    .option(
      "--vision <tower>",
      "vision tower: resnet (training judge), bit (held-out judge)",
      choice(["resnet", "bit"] as const),
      "resnet",
    )
    .option(
      "--init-from <dir>",
      "fine-tune this trained judge (its words and weights; 50 warm-up steps, near misses from the start)",
    )
    .option(
      "--generated-pool <file>",
      "a pool of measured generated images to train on too (from `dualproc world judge-pool`); repeatable",
      (value: string, previous: string[] = []) => [...previous, resolve(value)],
    )
    .option(
      "--generated-share <share>",
      "share of each batch from the generated pools",
      numberBetween(0, 0.99),
    )
    .option(
      "--generated-families <families>",
      "ask the generated pools only these question families, comma separated, e.g. relative_depth (default: every family they can answer), so a fine-tune for one family leaves the others as they were",
      (value: string) => value.split(",").map((f) => f.trim()),
    )
    .option("--learning-rate <lr>", "peak AdamW learning rate (default 5e-4)", numberBetween(1e-7, 1))
    .option(
      "--max-share <share>",
      "greatest share of a rendered batch one question family may take (default 0.3; the mix follows each family's loss)",
      numberBetween(0.01, 1),
    )
    .option(
      "--word-dropout <p>",
      "probability that each word of a training question is replaced by an unknown one (default 0), so a wording with words the judge never saw gets an unsure answer",
      numberBetween(0, 0.99),
    )
    .option(
      "--recolored-palette-share <share>",
      "share of rendered palette questions asked again of the scene repainted in some of the strip's colours: one colour (a wash, No) or several (Yes where each covers enough) (default 0)",
      numberBetween(0, 1),
    )
    .option(
      "--tiled-palette-share <share>",
      "share of plain rendered palette questions asked again with the swatches tiled over the image (palette overlay layout tiles), answered by the pixels of the whole picture (default 0)",
      numberBetween(0, 1),
    )
    .option(
      "--attacked-palette-share <share>",
      "palette pictures added to each batch, as a share of it, after a few gradient steps of a smooth colour field towards the answer the judge should not give, then answered again by their pixels (default 0)",
      numberBetween(0, 1),
    )
    .option(
      "--family-weight <family=factor>",
      "give a question family more (or less) of each rendered batch: its running loss is multiplied by the factor when the batch is shared out, e.g. relative_depth=10; repeatable",
      parseFamilyWeight,
    )
    .action(
      async (
        options: TrainOptions & {
          phrasings: "train" | "heldout";
          vision: "resnet" | "bit";
          initFrom?: string;
          generatedPool?: string[];
          generatedShare?: number;
          generatedFamilies?: string[];
          learningRate?: number;
          maxShare?: number;
          wordDropout?: number;
          recoloredPaletteShare?: number;
          tiledPaletteShare?: number;
          attackedPaletteShare?: number;
          familyWeight?: Record<string, number>;
        },
        self: Command,
      ) => {
        const console = context.consoleFor(self);
        const out = resolve(options.out);
        const params = {
          out_dir: out,
          seed: options.seed,
          max_train_steps: options.maxTrainSteps,
          phrasing_split: options.phrasings,
          vision: options.vision,
          ...(options.initFrom ? { init_from: resolve(options.initFrom) } : {}),
          ...(options.generatedPool ? { generated_pools: options.generatedPool } : {}),
          ...(options.generatedShare !== undefined ? { generated_share: options.generatedShare } : {}),
          ...(options.generatedFamilies ? { generated_families: options.generatedFamilies } : {}),
          ...(options.learningRate !== undefined ? { learning_rate: options.learningRate } : {}),
          ...(options.maxShare !== undefined ? { max_share: options.maxShare } : {}),
          ...(options.wordDropout !== undefined ? { word_dropout: options.wordDropout } : {}),
          ...(options.recoloredPaletteShare !== undefined
            ? { recolored_palette_share: options.recoloredPaletteShare }
            : {}),
          ...(options.tiledPaletteShare !== undefined
            ? { tiled_palette_share: options.tiledPaletteShare }
            : {}),
          ...(options.attackedPaletteShare !== undefined
            ? { attacked_palette_share: options.attackedPaletteShare }
            : {}),
          ...(options.familyWeight ? { family_weights: options.familyWeight } : {}),
        };
        const result = await runEngineJob(console, "train_judge", params, {
          runDir: out,
          label: "train-judge",
        });
        console.result(`trained judge in ${result.out_dir}`);
        console.result(JSON.stringify(result.summary, null, 2));
      },
    );
}

export function judgePoolCommand(context: CliContext): Command {
  return context
    .command(
      "judge-pool",
      "generate images (base and through taught LoRAs), measure them, and keep both for judge training",
    )
    .requiredOption("--out <file>", "pool file to write (e.g. pool.pt)")
    .requiredOption("--seed <seed>", "seed of the captions and noises", integer(0))
    .option("--n <count>", "images per source, half landscapes and half line art", integer(2, 100_000), 384)
    .option("--base <count>", "sources of the base generator alone", integer(0, 100), 1)
    .option(
      "--generator <name>",
      "the generator the pool draws with (its LoRAs must be taught on it): a preset or folder",
      nonEmpty("a generator"),
      "scenes-generator",
    )
    .option(
      "--lora <name=run>",
      "a taught LoRA (teach run folder or file), used at scales 0.5 and 1; repeatable",
      (value: string, previous: { name: string; run: string }[] = []) => {
        const [name, run] = value.split(/=(.*)/s);
        if (!name || !run) throw new InvalidArgumentError(`expected NAME=RUN, got ${value}`);
        return [...previous, { name, run: resolve(run) }];
      },
    )
    .addHelpText(
      "after",
      "\nThe measurers label each image; `world train-judge --generated-pool FILE` trains on them (docs/judge.md).",
    )
    .action(
      async (
        options: {
          out: string;
          seed: number;
          n: number;
          base: number;
          generator: string;
          lora?: { name: string; run: string }[];
        },
        self: Command,
      ) => {
        const console = context.consoleFor(self);
        const params = {
          out: resolve(options.out),
          seed: options.seed,
          n_per_source: options.n,
          base_sources: options.base,
          generator: options.generator,
          loras: options.lora ?? [],
        };
        const result = await runEngineJob(console, "judge_pool", params, { label: "judge-pool" });
        console.result(`${result.images} images in ${result.out}`);
        console.result(JSON.stringify(result.counts));
      },
    );
}

export function trainGeneratorCommand(context: CliContext): Command {
  const command = context.command(
    "train-generator",
    "train the embedded Scenes generator (rectified flow, then few-step)",
  );
  return withTrainOptions(command, 2000).action(async (options: TrainOptions, self: Command) => {
    const console = context.consoleFor(self);
    const out = resolve(options.out);
    const params = { out_dir: out, seed: options.seed, max_train_steps: options.maxTrainSteps };
    const result = await runEngineJob(console, "train_generator", params, {
      runDir: out,
      label: "train-generator",
    });
    console.result(`trained generator in ${result.out_dir}`);
    console.result(JSON.stringify(result.summary, null, 2));
  });
}
