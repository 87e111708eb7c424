/** Options shared by the world commands that render scenes: how many, from which seed, how big, which kind. */
import type { Command } from "commander";
import { choice, integer } from "../../options.js";

const KINDS = ["landscape", "lineart", "mix"] as const;

export interface SceneOptions {
  n: number;
  seed: number;
  sizePx: number;
  kind: (typeof KINDS)[number];
  out: string;
}

export function withSceneOptions(command: Command, seedHelp: string): Command {
  return command
    .option("--n <count>", "number of scenes", integer(1, 100_000), 64)
    .option("--seed <seed>", seedHelp, integer(0), 0)
    .option("--size-px <px>", "image side in pixels", integer(16, 1024), 64)
    .option("--kind <kind>", `scene kind: ${KINDS.join(", ")}`, choice(KINDS), "mix")
    .requiredOption("--out <dir>", "output folder (also holds run.json and events.jsonl)");
}

/** The protocol's scene parameters from the options (the same words as the render job's params). */
export function sceneParams(options: SceneOptions, outDir: string) {
  return {
    n: options.n,
    seed: options.seed,
    size_px: options.sizePx,
    kind: options.kind === "mix" ? null : options.kind,
    out_dir: outDir,
  };
}
