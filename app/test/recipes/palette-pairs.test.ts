import { describe, expect, it } from "vitest";
import { controlsOf } from "../../src/eval/controls.js";
import { hexToLab } from "../../src/eval/measurers/colour.js";
import { parseRecipe, RecipeError } from "../../src/recipes/load.js";
import { colourPairs } from "../../src/recipes/palette-pairs.js";

const RETRO = ["#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51"];
const lightness = (hex: string) => hexToLab(hex)[0];

function recipe(question: string): string {
  return (
    "prompts:\n  template: 'a {sky} landscape'\n  slots: {sky: [sunny, night]}\nquestions:\n" +
    question +
    "  - question: Is the horizon low in the image?\n"
  );
}

describe("palette questions asked in pairs of colours", () => {
  it("pairs each darker colour with a lighter one, none for fewer than three", () => {
    const pairs = colourPairs(RETRO);
    expect(pairs).toHaveLength(2);
    for (const [dark, light] of pairs) expect(lightness(dark!)).toBeLessThan(lightness(light!));
    // the darkest colour goes with the third lightest (the first of the lighter half): #264653 with #f4a261
    expect(pairs[0]).toEqual(["#264653", "#f4a261"]);
    expect(new Set(pairs.flat()).size).toBe(4);
    expect(colourPairs(["#000000", "#333333", "#666666", "#999999", "#cccccc", "#ffffff"])).toEqual([
      ["#000000", "#999999"],
      ["#333333", "#cccccc"],
      ["#666666", "#ffffff"],
    ]);
    expect(colourPairs(["#000000", "#ffffff"])).toEqual([]);
  });

  it("asks the pair questions right after their palette question, at the pair weight, marked", () => {
    const { questions } = parseRecipe(
      recipe(
        `  - question: Does the image use the colours in the strip at the bottom?\n` +
          `    visual_prompt: {kind: palette, colors: ${JSON.stringify(RETRO)}}\n` +
          `    when: {sky: night}\n    pair_weight: 0.3\n`,
      ),
    );
    expect(questions).toHaveLength(4);
    const [palette, first, second, other] = questions;
    expect(palette!.weight).toBe(1);
    expect(palette!.pair_of).toBeUndefined();
    for (const pair of [first!, second!]) {
      expect(pair.question).toBe(palette!.question);
      expect(pair.weight).toBe(0.3);
      expect(pair.pair_of).toBe(0);
      expect(pair.prompts).toEqual(["a night landscape"]); // asked of the same prompts as its palette
      expect(pair).not.toHaveProperty("pair_weight");
    }
    expect(first!.visual_prompt).toEqual({ kind: "palette", colors: colourPairs(RETRO)[0] });
    expect(other!.question).toBe("Is the horizon low in the image?");
    expect(other).not.toHaveProperty("pair_weight");
  });

  it("leaves the pairs out of the evaluation's controls: the palette's own control measures them", () => {
    const { questions } = parseRecipe(
      recipe(
        `  - question: Does the image use the colours in the strip at the bottom?\n` +
          `    visual_prompt: {kind: palette, colors: ${JSON.stringify(RETRO)}}\n    pair_weight: 0.3\n`,
      ),
    );
    const controls = controlsOf(questions);
    expect(controls).toHaveLength(1);
    expect(controls[0]!.question).toBe(0);
  });

  it("refuses pairs where there are none to ask", () => {
    const attempt = (prompt: string) => () =>
      parseRecipe(recipe(`  - question: Q?\n    visual_prompt: ${prompt}\n    pair_weight: 0.3\n`), "r.yaml");
    expect(attempt("{kind: horizon, y: 0.3}")).toThrow(RecipeError);
    expect(attempt("{kind: horizon, y: 0.3}")).toThrow(
      /^r\.yaml: questions\[0\]\.pair_weight: only a question with a palette visual prompt/,
    );
    expect(attempt("{kind: palette, colors: ['#000000', '#ffffff']}")).toThrow(
      /a strip of 2 colours has no pairs to ask about; give 3 or more/,
    );
  });
});
