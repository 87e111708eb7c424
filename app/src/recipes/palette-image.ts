/**
 * `palette_from_image` visual prompts: the dominant colours of a picture become an ordinary palette strip
 * when the recipe loads, so the resolved recipe (written into the run folder) says which colours were
 * taught, and the engine only ever sees colours.
 */
import { resolve } from "node:path";
import { measurePalette } from "../eval/measurers/palette.js";
import { ImageReadError, readImage } from "../images/read.js";
import { RecipeError } from "./errors.js";
import type { Recipe } from "./schema.js";

/** The `count` most used colours of the picture at `path`, most used first. */
export function dominantColours(path: string, count: number): string[] {
  const palette = measurePalette(readImage(path), { k: count });
  return [...palette].sort((a, b) => b.weight - a.weight).map((c) => c.hex);
}

export function resolvePaletteImages(recipe: Recipe, baseDir: string, source: string): Recipe {
  const questions = recipe.questions.map((q, i) => {
    const prompt = q.visual_prompt;
    if (prompt?.kind !== "palette_from_image") return q;
    let colors: string[];
    try {
      colors = dominantColours(resolve(baseDir, prompt.path), prompt.count);
    } catch (error) {
      if (error instanceof ImageReadError)
        throw new RecipeError(`${source}: questions[${i}].visual_prompt.path: ${error.message}`);
      throw error;
    }
    const mode = prompt.mode === undefined ? {} : { mode: prompt.mode };
    return { ...q, visual_prompt: { kind: "palette" as const, colors, ...mode } };
  });
  return { ...recipe, questions };
}
