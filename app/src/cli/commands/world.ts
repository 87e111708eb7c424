import { resolve } from "node:path";
import { Command } from "commander";
import type { CliContext } from "../context.js";
import { runEngineJob } from "../engine-job.js";
import { choice, integer } from "../options.js";

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
  return world;
}

interface RenderOptions {
  n: number;
  seed: number;
  sizePx: number;
  kind: (typeof KINDS)[number];
  out: string;
}
