import { resolve } from "node:path";
import { Command } from "commander";
import type { CliContext } from "../context.js";
import { runEngineJob } from "../engine-job.js";
import { choice, integer, list } from "../options.js";
import { QA_FAMILIES } from "../../protocol/messages.js";
import { measure } from "../../eval/measurers/index.js";
import { ImageReadError, readImage } from "../../images/read.js";

const KINDS = ["landscape", "lineart", "mix"] as const;

export function worldCommand(context: CliContext): Command {
  const world = new Command("world").description(
    "the embedded Scenes world: render scenes with exact ground truth",
  );
  world.addCommand(
    context
      .command("render", "render Scenes to PNGs with their attributes (attributes.jsonl) and a contact sheet")
      .option("--n <count>", "number of scenes", integer(1, 100_000), 64)
      .option("--seed <seed>", "seed of the batch (scene i uses seed * 1000003 + i)", integer(0), 0)
      .option("--size-px <px>", "image side in pixels", integer(16, 1024), 64)
      .option("--kind <kind>", `scene kind: ${KINDS.join(", ")}`, choice(KINDS), "mix")
      .requiredOption("--out <dir>", "output folder (also holds run.json and events.jsonl)")
      .action(async (options: RenderOptions, command: Command) => {
        const console = context.consoleFor(command);
        const out = resolve(options.out);
        const params = {
          n: options.n,
          seed: options.seed,
          size_px: options.sizePx,
          kind: options.kind === "mix" ? null : options.kind,
          out_dir: out,
        };
        const result = await runEngineJob(console, "render", params, { runDir: out, label: "render" });
        console.result(`wrote ${result.count} scenes to ${result.out_dir}`);
        if (result.contact_sheet) console.result(`contact sheet: ${result.contact_sheet}`);
      }),
  );
  world.addCommand(
    context
      .command("qa", "render Scenes and write balanced yes/no questions with exact answers (qa.jsonl)")
      .option("--n <count>", "number of scenes", integer(1, 100_000), 64)
      .option("--seed <seed>", "seed of the scenes and the questions", integer(0), 0)
      .option("--size-px <px>", "image side in pixels", integer(16, 1024), 64)
      .option("--kind <kind>", `scene kind: ${KINDS.join(", ")}`, choice(KINDS), "mix")
      .option(
        "--families <names>",
        `comma-separated question families (default: all): ${QA_FAMILIES.join(", ")}`,
        list(QA_FAMILIES),
      )
      .option("--per-scene <count>", "questions per scene and family", integer(1, 16), 1)
      .option("--phrasings <split>", "phrasings to use: train, heldout, all", choice(SPLITS), "train")
      .option("--overlay-images", "also write each question's image with its visual prompt (qa/*.png)")
      .requiredOption("--out <dir>", "output folder (also holds run.json and events.jsonl)")
      .action(async (options: QaOptions, command: Command) => {
        const console = context.consoleFor(command);
        const out = resolve(options.out);
        const params = {
          n: options.n,
          seed: options.seed,
          size_px: options.sizePx,
          kind: options.kind === "mix" ? null : options.kind,
          families: options.families ?? null,
          per_scene: options.perScene,
          phrasing_split: options.phrasings,
          overlay_images: Boolean(options.overlayImages),
          out_dir: out,
        };
        const result = await runEngineJob(console, "qa", params, { runDir: out, label: "qa" });
        console.result(`wrote ${result.questions} questions about ${result.scenes} scenes to ${result.qa}`);
      }),
  );
  world.addCommand(
    context
      .command(
        "measure",
        "estimate horizon, palette, stroke width, sky and objects from images (no learning)",
      )
      .argument("<images...>", "PNG or JPEG files")
      .option(
        "--kind <kind>",
        "scene kind, if known: landscape, lineart (default: guessed)",
        choice(MEASURE_KINDS),
      )
      .addHelpText(
        "after",
        "\nPrints one JSON object per image (fields as in docs/world-contract.md, plus confidences).\n" +
          "The measurers share no code with the renderer: they are the independent check on generated images.",
      )
      .action((images: string[], options: { kind?: (typeof MEASURE_KINDS)[number] }, command: Command) => {
        const console = context.consoleFor(command);
        let failures = 0;
        for (const file of images) {
          try {
            const measured = measure(readImage(file), options.kind ? { kind: options.kind } : {});
            console.result(JSON.stringify({ file, ...measured }));
          } catch (error) {
            if (!(error instanceof ImageReadError)) throw error;
            console.warn(error.message);
            failures += 1;
          }
        }
        if (failures > 0) process.exitCode = 1;
      }),
  );
  return world;
}

const SPLITS = ["train", "heldout", "all"] as const;

interface QaOptions {
  n: number;
  seed: number;
  sizePx: number;
  kind: (typeof KINDS)[number];
  families?: (typeof QA_FAMILIES)[number][];
  perScene: number;
  phrasings: (typeof SPLITS)[number];
  overlayImages?: boolean;
  out: string;
}

const MEASURE_KINDS = ["landscape", "lineart"] as const;

interface RenderOptions {
  n: number;
  seed: number;
  sizePx: number;
  kind: (typeof KINDS)[number];
  out: string;
}
