import type { Command } from "commander";
import { measure } from "../../../eval/measurers/index.js";
import { ImageReadError, readImage } from "../../../images/read.js";
import type { CliContext } from "../../context.js";
import { choice } from "../../options.js";

const KINDS = ["landscape", "lineart"] as const;

export function measureCommand(context: CliContext): Command {
  return context
    .command("measure", "estimate horizon, palette, stroke width, sky and objects from images (no learning)")
    .argument("<images...>", "PNG or JPEG files")
    .option("--kind <kind>", "scene kind, if known: landscape, lineart (default: guessed)", choice(KINDS))
    .addHelpText(
      "after",
      "\nPrints one JSON object per image (fields as in docs/world-contract.md, plus confidences).\n" +
        "The measurers share no code with the renderer: they are the independent check on generated images.",
    )
    .action((images: string[], options: { kind?: (typeof KINDS)[number] }, self: Command) => {
      const console = context.consoleFor(self);
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
    });
}
