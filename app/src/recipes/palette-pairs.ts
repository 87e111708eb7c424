/**
 * Palette questions asked again in pairs of their colours (`pair_weight`). Asked about a whole strip, the
 * embedded judge accepts a picture in one of its colours, in several lightnesses; a strip of just two
 * colours, one dark and one light, is harder to pass with one. So a palette question with `pair_weight: w`
 * is also asked, at weight w each, with strips of two of its colours: sorted from dark to light, the i-th
 * darkest with the i-th of the lighter half (five colours give two pairs, six give three). Measured, it
 * helps some palettes and hurts others (docs/teach.md, "Asking in pairs of colours"). The pairs are a way
 * of teaching the palette, not controls of their own: the evaluation measures the whole strip's control.
 */
import { hexToLab } from "../eval/measurers/colour.js";
import { RecipeError } from "./errors.js";
import type { Recipe } from "./schema.js";

type RecipeQuestion = Recipe["questions"][number];
/** A recipe question with its `pair_weight` expanded (the engine does not take the field). */
export type PairedQuestion = Omit<RecipeQuestion, "pair_weight">;

/** Pairs of the colours, each a darker one with a lighter one (CIELAB lightness); none for fewer than 3. */
export function colourPairs(colors: readonly string[]): string[][] {
  if (colors.length < 3) return [];
  const byLightness = [...colors].sort((a, b) => hexToLab(a)[0] - hexToLab(b)[0]);
  const half = Math.ceil(colors.length / 2);
  return Array.from({ length: Math.floor(colors.length / 2) }, (_, i) => [
    byLightness[i]!,
    byLightness[i + half]!,
  ]);
}

/**
 * A question without its `pair_weight` and, when it asks for pairs, its pair questions right after it
 * (`pairOf`: its index).
 */
export function withColourPairs(
  question: RecipeQuestion,
  index: number,
  where: string,
): { question: PairedQuestion; pairOf?: number }[] {
  const { pair_weight: weight, ...plain } = question;
  if (weight === 0) return [{ question: plain }];
  const prompt = plain.visual_prompt;
  if (prompt?.kind !== "palette")
    throw new RecipeError(
      `${where}.pair_weight: only a question with a palette visual prompt can be asked in pairs`,
    );
  if (prompt.colors.length < 3)
    throw new RecipeError(
      `${where}.pair_weight: a strip of ${prompt.colors.length} colours has no pairs to ask about; give 3 or more`,
    );
  const pairs = colourPairs(prompt.colors).map((colors) => ({
    question: { ...plain, weight, visual_prompt: { ...prompt, colors } },
    pairOf: index,
  }));
  return [{ question: plain }, ...pairs];
}
