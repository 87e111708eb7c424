import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadRecipeFile, parseRecipe, RecipeError } from "../../src/recipes/load.js";
import { drawsScenes } from "../../src/recipes/draws-scenes.js";
import { SCENES_TRAINING_DEFAULTS } from "../../src/recipes/generator-defaults.js";

const QUESTIONS = `
prompts: "a sunny landscape with trees"
questions:
  - question: Is the red line aligned with the horizon?
    visual_prompt: { kind: horizon, y: 0.3 }
`;

describe("training defaults that follow the generator", () => {
  it("a recipe for the embedded generator that names no settings gets the library recipes' ones", () => {
    for (const header of ["", "generator: scenes-generator\n"]) {
      const { recipe } = parseRecipe(header + QUESTIONS);
      expect(recipe.training).toMatchObject(SCENES_TRAINING_DEFAULTS);
      expect(recipe.training.resolution_px).toBe(64);
      expect(recipe.training.learning_rate).toBe(1e-3);
      expect(recipe.eval.lora_scales).toEqual([0, 1]); // its grids at the scale it is trained at
    }
  });

  it("the recipe's own settings win, and the rest are still filled", () => {
    const { recipe } = parseRecipe(
      QUESTIONS + "training: { learning_rate: 5.0e-4, lora_scale: 2 }\neval: { seeds: [7] }\n",
    );
    expect(recipe.training.learning_rate).toBe(5e-4);
    expect(recipe.training.lora_scale).toBe(2);
    expect(recipe.training.lora_rank).toBe(8);
    expect(recipe.eval.lora_scales).toEqual([0, 2]);
    expect(recipe.eval.seeds).toEqual([7]);
    const own = parseRecipe(QUESTIONS + "eval: { lora_scales: [0, 0.5, 1] }\n").recipe;
    expect(own.eval.lora_scales).toEqual([0, 0.5, 1]);
    // a LoRA used below the scale it trains at: its grids at the scale it is used at
    const used = parseRecipe(QUESTIONS + "training: { use_scale: 0.7 }\n").recipe;
    expect([used.training.lora_scale, used.training.use_scale]).toEqual([1, 0.7]);
    expect(used.eval.lora_scales).toEqual([0, 0.7]);
    expect(parseRecipe(QUESTIONS).recipe.training.use_scale).toBeNull();
    expect(() => parseRecipe(QUESTIONS + "training: { use_scale: 0 }\n")).toThrow(/training\.use_scale/);
  });

  it("another generator keeps the paper's defaults", () => {
    const { recipe } = parseRecipe("generator: flux-schnell\n" + QUESTIONS);
    expect(recipe.training.learning_rate).toBe(5e-5);
    expect(recipe.training.lora_rank).toBe(16);
    expect(recipe.training.resolution_px).toBe(512);
    expect(recipe.eval.lora_scales).toEqual([0, 5]);
    const scaled = parseRecipe("generator: flux-schnell\n" + QUESTIONS + "training: { lora_scale: 3 }\n");
    expect(scaled.recipe.eval.lora_scales).toEqual([0, 3]);
  });

  it("follows the generator the recipe will teach, not the one it names (teach --generator)", () => {
    const file = join(mkdtempSync(join(tmpdir(), "defaults-")), "r.yaml");
    writeFileSync(file, "generator: flux-schnell\n" + QUESTIONS + "training: { resolution_px: 128 }\n");
    const { recipe } = loadRecipeFile(file, "scenes-generator");
    expect(recipe.generator).toBe("scenes-generator");
    expect(recipe.training.learning_rate).toBe(1e-3);
    expect(recipe.training.resolution_px).toBe(128); // still the recipe's own
    expect(loadRecipeFile(file).recipe.training.learning_rate).toBe(5e-5);
  });

  it("a folder holding a Scenes pipeline (a candidate generator) gets the embedded defaults too", () => {
    const dir = mkdtempSync(join(tmpdir(), "candidate-"));
    writeFileSync(join(dir, "model_index.json"), JSON.stringify({ _class_name: "ScenesPipeline" }));
    const { recipe } = parseRecipe(`generator: ${dir}\n` + QUESTIONS);
    expect(recipe.training).toMatchObject(SCENES_TRAINING_DEFAULTS);
  });

  it("leaves a training or eval section that is not a mapping for validation to report", () => {
    for (const tail of ["training: fast\n", "eval: [1, 2]\n", "training: { lora_scale: -1 }\n"]) {
      expect(() => parseRecipe(QUESTIONS + tail, "r.yaml")).toThrow(RecipeError);
    }
  });
});

describe("drawsScenes", () => {
  it("is the Scenes preset or a folder of a Scenes pipeline, not another family or a missing folder", () => {
    const dir = mkdtempSync(join(tmpdir(), "draws-scenes-"));
    const folder = (name: string, className: string) => {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, "model_index.json"), JSON.stringify({ _class_name: className }));
      return join(dir, name);
    };
    expect(drawsScenes("scenes-generator")).toBe(true);
    expect(drawsScenes(folder("candidate", "ScenesPipeline"))).toBe(true);
    expect(drawsScenes(folder("flux", "FluxPipeline"))).toBe(false);
    expect(drawsScenes("sdxl-turbo")).toBe(false);
    expect(drawsScenes(join(dir, "missing"))).toBe(false);
  });
});
