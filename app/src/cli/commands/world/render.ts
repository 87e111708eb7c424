import { resolve } from "node:path";
import type { Command } from "commander";
import type { CliContext } from "../../context.js";
import { runEngineJob } from "../../engine-job.js";
import { sceneParams, withSceneOptions, type SceneOptions } from "./scenes.js";

export function renderCommand(context: CliContext): Command {
  const command = context.command(
    "render",
    "render Scenes to PNGs with their attributes (attributes.jsonl) and a contact sheet",
  );
  return withSceneOptions(command, "seed of the batch (scene i uses seed * 1000003 + i)").action(
    async (options: SceneOptions, self: Command) => {
      const console = context.consoleFor(self);
      const out = resolve(options.out);
      const result = await runEngineJob(console, "render", sceneParams(options, out), { runDir: out });
      console.result(`wrote ${result.count} scenes to ${result.out_dir}`);
      if (result.contact_sheet) console.result(`contact sheet: ${result.contact_sheet}`);
    },
  );
}
