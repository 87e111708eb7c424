import { writeFileSync } from "node:fs";
import { Command } from "commander";
import { z } from "zod";
import { loadRecipeFile, resolvedRecipeYaml } from "../../recipes/load.js";
import { Recipe } from "../../recipes/schema.js";
import type { CliContext } from "../context.js";
import { recipeFieldLines } from "../../recipes/fields.js";
import { SCENES_FIELD_DEFAULTS } from "../../recipes/generator-defaults.js";
import { QuestionHelperError, questionsYaml, suggestQuestions } from "../../recipes/question-helper.js";
import { isAskedOf } from "../../recipes/slot-questions.js";
import { UsageError } from "../errors.js";
import { integer, nonEmpty } from "../options.js";

export function recipeCommand(context: CliContext): Command {
  const recipe = new Command("recipe").description(
    "check control recipes, list their fields, and phrase questions",
  );
  recipe.addCommand(
    context
      .command(
        "check",
        "validate a recipe and print it resolved (every default filled in, templates expanded)",
      )
      .argument("<file>", "the recipe, a YAML file")
      .option("--out <file>", "also write the resolved recipe to this file")
      .action((file: string, options: { out?: string }, command: Command) => {
        const console = context.consoleFor(command);
        const { recipe: resolved, prompts, evalPrompts, questions } = loadRecipeFile(file);
        const yaml = resolvedRecipeYaml(resolved);
        if (options.out) writeFileSync(options.out, yaml);
        console.result(yaml.trimEnd());
        console.info(
          `${file}: valid; ${prompts.length} training prompt(s), ${evalPrompts.length} evaluation prompt(s), ` +
            `${questions.length} question(s) asked` +
            (resolved.keep.length > 0
              ? `, ${resolved.keep.length} keep question(s) asked of ${resolved.keep_judge ?? resolved.judge} ` +
                `(training.keep_weight ${resolved.training.keep_weight})`
              : ""),
        );
        if (questions.some((q) => q.prompts !== undefined || q.pair_of !== undefined)) {
          // `when`, {slot} and pairs of colours: say who is asked what (a held-out prompt may be asked none
          // of them) and which strips the pairs show
          for (const q of questions) {
            const of = (list: string[]) => list.filter((p) => isAskedOf(q, p)).length;
            const visual = q.visual_prompt ? ` ${JSON.stringify(q.visual_prompt)}` : "";
            const pair =
              q.pair_of === undefined ? "" : ` (pair of questions[${q.pair_of}], weight ${q.weight})`;
            console.info(
              `  ${q.question}${visual} -> ${q.answer}${pair}: ${of(prompts)} of ${prompts.length} training, ` +
                `${of(evalPrompts)} of ${evalPrompts.length} evaluation prompt(s)`,
            );
          }
        }
      }),
  );
  recipe.addCommand(
    context
      .command("fields", "list every recipe field with its type, default and description")
      .action((_options: object, command: Command) => {
        context
          .consoleFor(command)
          .result(
            recipeFieldLines(z.toJSONSchema(Recipe, { io: "input" }), SCENES_FIELD_DEFAULTS).join("\n"),
          );
      }),
  );
  recipe.addCommand(
    context
      .command(
        "questions",
        "expand a question into several phrasings and suggest its visual prompt (offline), as recipe YAML",
      )
      .argument("<question>", "a yes/no question, e.g. 'Is the red line on the horizon?'")
      .option("--n <count>", "phrasings to write, the question included", integer(1, 12), 5)
      .option("--answer <text>", "the wanted answer", nonEmpty("an answer"), "Yes")
      .action((question: string, options: { n: number; answer: string }, command: Command) => {
        const console = context.consoleFor(command);
        let suggestion;
        try {
          suggestion = suggestQuestions(question, options.n);
        } catch (error) {
          if (error instanceof QuestionHelperError) throw new UsageError(error.message);
          throw error;
        }
        console.result(questionsYaml(suggestion, options.answer).trimEnd());
        console.info(
          suggestion.visualPrompt
            ? `a ${suggestion.kind} control: paste the block into a recipe and ${suggestion.hint}`
            : "a plain question: paste the block into a recipe (no visual prompt needed)",
        );
      }),
  );
  return recipe;
}
