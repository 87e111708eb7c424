import { Command } from "commander";
import type { CliContext } from "../../context.js";
import { measureCommand } from "./measure.js";
import { qaCommand } from "./qa.js";
import { renderCommand } from "./render.js";
import { judgePoolCommand, trainGeneratorCommand, trainJudgeCommand } from "./train.js";

export function worldCommand(context: CliContext): Command {
  return new Command("world")
    .description(
      "the embedded Scenes world: scenes with exact ground truth, questions, measurers, model training",
    )
    .addCommand(renderCommand(context))
    .addCommand(qaCommand(context))
    .addCommand(measureCommand(context))
    .addCommand(trainJudgeCommand(context))
    .addCommand(judgePoolCommand(context))
    .addCommand(trainGeneratorCommand(context));
}
