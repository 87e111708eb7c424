import { writeFileSync } from "node:fs";
import { Command } from "commander";
import { z } from "zod";
import { loadRecipeFile, resolvedRecipeYaml } from "../../recipes/load.js";
import { Recipe } from "../../recipes/schema.js";
import type { CliContext } from "../context.js";
import { recipeFieldLines } from "../../recipes/fields.js";

export function recipeCommand(context: CliContext): Command {
  const recipe = new Command("recipe").description("check control recipes and list their fields");
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
        const { recipe: resolved, prompts, evalPrompts } = loadRecipeFile(file);
        const yaml = resolvedRecipeYaml(resolved);
        if (options.out) writeFileSync(options.out, yaml);
        console.result(yaml.trimEnd());
        console.info(
          `${file}: valid; ${prompts.length} training prompt(s), ${evalPrompts.length} evaluation prompt(s), ` +
            `${resolved.questions.length} question(s)`,
        );
      }),
  );
  recipe.addCommand(
    context
      .command("fields", "list every recipe field with its type, default and description")
      .action((_options: object, command: Command) => {
        context
          .consoleFor(command)
          .result(recipeFieldLines(z.toJSONSchema(Recipe, { io: "input" })).join("\n"));
      }),
  );
  return recipe;
}
