import { resolve } from "node:path";
import type { Command } from "commander";
import { QA_FAMILIES } from "../../../protocol/messages.js";
import type { CliContext } from "../../context.js";
import { runEngineJob } from "../../engine-job.js";
import { choice, integer, list } from "../../options.js";
import { sceneParams, withSceneOptions, type SceneOptions } from "./scenes.js";

const SPLITS = ["train", "heldout", "all"] as const;

interface QaOptions extends SceneOptions {
  families?: (typeof QA_FAMILIES)[number][];
  perScene: number;
  phrasings: (typeof SPLITS)[number];
  overlayImages?: boolean;
}

export function qaCommand(context: CliContext): Command {
  const command = context.command(
    "qa",
    "render Scenes and write balanced yes/no questions with exact answers (qa.jsonl)",
  );
  return withSceneOptions(command, "seed of the scenes and the questions")
    .option(
      "--families <names>",
      `comma-separated question families (default: all): ${QA_FAMILIES.join(", ")}`,
      list(QA_FAMILIES),
    )
    .option("--per-scene <count>", "questions per scene and family", integer(1, 16), 1)
    .option("--phrasings <split>", "phrasings to use: train, heldout, all", choice(SPLITS), "train")
    .option("--overlay-images", "also write each question's image with its visual prompt (qa/*.png)")
    .action(async (options: QaOptions, self: Command) => {
      const console = context.consoleFor(self);
      const out = resolve(options.out);
      const params = {
        ...sceneParams(options, out),
        families: options.families ?? null,
        per_scene: options.perScene,
        phrasing_split: options.phrasings,
        overlay_images: Boolean(options.overlayImages),
      };
      const result = await runEngineJob(console, "qa", params, { runDir: out });
      console.result(`wrote ${result.questions} questions about ${result.scenes} scenes to ${result.qa}`);
    });
}
