import { resolve } from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import type { CliContext } from "../../context.js";
import { runEngineJob } from "../../engine-job.js";
import { UsageError } from "../../errors.js";
import { numberBetween } from "../../options.js";
import { sceneParams, withSceneOptions, type SceneOptions } from "./scenes.js";

interface RenderOptions extends SceneOptions {
  horizon?: number;
  strokeWidth?: number;
  palette?: string[];
}

function colours(text: string): string[] {
  const list = text.split(",").map((c) => c.trim());
  const bad = list.find((c) => !/^#[0-9a-fA-F]{6}$/.test(c));
  if (bad !== undefined) throw new InvalidArgumentError(`expected colours like #aabbcc,#ddeeff; got ${bad}`);
  return list;
}

/** The attributes set by --horizon, --stroke-width and --palette, or undefined when none is. */
function fixedOf(options: RenderOptions) {
  const fixed = {
    ...(options.horizon !== undefined ? { horizon: options.horizon } : {}),
    ...(options.strokeWidth !== undefined ? { stroke_width_px: options.strokeWidth } : {}),
    ...(options.palette ? { palette: options.palette } : {}),
  };
  return Object.keys(fixed).length > 0 ? fixed : undefined;
}

export function renderCommand(context: CliContext): Command {
  const command = context.command(
    "render",
    "render Scenes to PNGs with their attributes (attributes.jsonl) and a contact sheet",
  );
  return withSceneOptions(command, "seed of the batch (scene i uses seed * 1000003 + i)")
    .option(
      "--horizon <y>",
      "set every landscape's horizon (fraction of the height from the top)",
      numberBetween(0.05, 0.95),
    )
    .option("--stroke-width <px>", "set every drawing's stroke width in pixels", numberBetween(0.1, 64))
    .option("--palette <colours>", "set every scene's palette: #rrggbb,#rrggbb,...", colours)
    .addHelpText(
      "after",
      "\nWith --horizon, --stroke-width or --palette each scene keeps everything else the same seed draws without\nthem: exact twins of the plain render, the counterfactuals `dualproc eval` measures drift against.",
    )
    .action(async (options: RenderOptions, self: Command) => {
      const console = context.consoleFor(self);
      const out = resolve(options.out);
      if (options.horizon !== undefined && options.kind !== "landscape")
        throw new UsageError("--horizon: only landscapes have a horizon; add --kind landscape");
      if (options.strokeWidth !== undefined && options.kind !== "lineart")
        throw new UsageError("--stroke-width: only line art has strokes; add --kind lineart");
      const fixed = fixedOf(options);
      const params = { ...sceneParams(options, out), ...(fixed ? { fixed } : {}) };
      const result = await runEngineJob(console, "render", params, { runDir: out });
      console.result(`wrote ${result.count} scenes to ${result.out_dir}`);
      if (result.contact_sheet) console.result(`contact sheet: ${result.contact_sheet}`);
    });
}
