/** The recipe library in recipes/: every recipe loads, and a palette can come from a picture. */
import { describe, expect, it } from "vitest";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PNG } from "pngjs";
import { loadRecipeFile, RecipeError, teachRecipe } from "../../src/recipes/load.js";

const LIBRARY = fileURLToPath(new URL("../../../recipes/", import.meta.url));

describe("the recipe library", () => {
  const files = readdirSync(LIBRARY).filter((f) => f.endsWith(".yaml"));

  it("holds the paper's tasks and more, each loading with a description and held-out prompts", () => {
    for (const wanted of [
      "horizon-30",
      "palette-colours",
      "palette-named",
      "palette-from-image",
      "line-weight",
      "relative-depth",
      "composition",
      "attribute-night",
    ])
      expect(files).toContain(`${wanted}.yaml`);
    for (const file of files) {
      const { recipe, prompts, evalPrompts } = loadRecipeFile(join(LIBRARY, file));
      expect(recipe.description, file).toBeTruthy();
      expect(
        evalPrompts.some((p) => prompts.includes(p)),
        `${file}: eval prompts must be held out`,
      ).toBe(false);
    }
  });

  it("turns palette_from_image into the picture's dominant colours, most used first", () => {
    const dir = mkdtempSync(join(tmpdir(), "palette-"));
    const png = new PNG({ width: 40, height: 40 });
    for (let i = 0; i < 40 * 40; i++) {
      const [r, g, b] = i < 40 * 30 ? [200, 40, 40] : [30, 60, 200]; // three quarters red, a quarter blue
      png.data.set([r, g, b, 255], i * 4);
    }
    writeFileSync(join(dir, "ref.png"), PNG.sync.write(png));
    const recipe = (prompt: string) =>
      `prompts: [a farm]\nquestions:\n  - question: Same colours?\n    visual_prompt: ${prompt}\n`;
    writeFileSync(join(dir, "r.yaml"), recipe("{kind: palette_from_image, path: ref.png, count: 2}"));
    const loaded = loadRecipeFile(join(dir, "r.yaml"));
    const strip = { kind: "palette", colors: ["#c82828", "#1e3cc8"] };
    expect(loaded.recipe.questions[0]!.visual_prompt).toEqual(strip);
    // and so in what the engine is sent (it knows palettes, not pictures to take them from)
    expect(teachRecipe(loaded).questions[0]!.visual_prompt).toEqual(strip);

    writeFileSync(join(dir, "bad.yaml"), recipe("{kind: palette_from_image, path: nothing.png}"));
    expect(() => loadRecipeFile(join(dir, "bad.yaml"))).toThrow(/visual_prompt\.path: no file nothing\.png/);
    writeFileSync(join(dir, "junk.png"), "not a picture");
    writeFileSync(join(dir, "junk.yaml"), recipe("{kind: palette_from_image, path: junk.png}"));
    expect(() => loadRecipeFile(join(dir, "junk.yaml"))).toThrow(RecipeError);
  });
});
