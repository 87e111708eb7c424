import { resolve } from "node:path";
import type { Command } from "commander";
import type { CliContext } from "../../context.js";
import { runEngineJob } from "../../engine-job.js";
import { choice, integer } from "../../options.js";

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

export function trainJudgeCommand(context: CliContext): Command {
  const command = context.command(
    "train-judge",
    "train an embedded Scenes judge (a tiny LLaVA) on Scenes QA",
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
    .action(
      async (
        options: TrainOptions & { phrasings: "train" | "heldout"; vision: "resnet" | "bit" },
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
