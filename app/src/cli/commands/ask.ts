import { resolve } from "node:path";
import type { Command } from "commander";
import type { Overlay } from "../../protocol/overlay.js";
import type { CliContext } from "../context.js";
import { runEngineJob } from "../engine-job.js";
import { nonEmpty } from "../options.js";
import { OVERLAY_FORMS, parseOverlayArg } from "../overlay-arg.js";

interface AskOptions {
  question: string;
  answer: string;
  overlay?: Overlay;
  judge: string;
  json?: boolean;
}

export function askCommand(context: CliContext): Command {
  return context
    .command("ask", "ask the judge a question about images: the probability of the answer for each")
    .argument("<images...>", "PNG or JPEG files")
    .requiredOption(
      "--question <text>",
      "the question, e.g. 'Is the red line aligned with the horizon?'",
      nonEmpty("a question"),
    )
    .option(
      "--answer <text>",
      "the answer whose probability is printed (a Scenes judge learned only Yes and No)",
      nonEmpty("an answer"),
      "Yes",
    )
    .option(
      "--overlay <spec>",
      `visual prompt drawn over each image first: ${OVERLAY_FORMS}`,
      parseOverlayArg,
    )
    .option("--judge <name>", "judge preset or folder", nonEmpty("a judge"), "scenes-judge")
    .option("--json", "one JSON object per image")
    .action(async (images: string[], options: AskOptions, self: Command) => {
      const console = context.consoleFor(self);
      const result = await runEngineJob(console, "ask", {
        images: images.map((image) => resolve(image)),
        question: options.question,
        answer: options.answer,
        overlay: options.overlay ?? null,
        judge: options.judge,
      });
      if (result.asked_as !== options.question && !options.json)
        console.info(`${options.judge} was asked in its own words: ${result.asked_as}`);
      result.answers.forEach((answer, i) => {
        const shown = images[i] ?? answer.path;
        console.result(
          options.json
            ? JSON.stringify({
                path: shown,
                answer: options.answer,
                probability: answer.probability,
                asked_as: result.asked_as,
              })
            : `${shown}\t${answer.probability.toFixed(4)}`,
        );
      });
    });
}
