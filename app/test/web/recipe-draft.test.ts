/**
 * The studio form's recipe drafts: form fields to YAML and back, keeping what the form does not show, so a
 * shipped recipe loaded into the form and started unchanged is the recipe as shipped.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseRecipe } from "../../src/recipes/load.js";
import {
  blankDraft,
  draftFromYaml,
  draftYaml,
  firstPrompt,
  whenText,
  whenValue,
} from "../../web/src/recipe-draft.js";

const library = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../../../recipes/${name}.yaml`, import.meta.url)), "utf8");

describe("recipe drafts", () => {
  it("gives a blank draft that is a valid recipe", () => {
    expect(() => parseRecipe(draftYaml(blankDraft()))).not.toThrow();
  });

  it.each(["horizon-30", "palette-colours", "palette-named", "relative-depth", "composition", "line-weight"])(
    "round-trips the shipped %s recipe through the form unchanged",
    (name) => {
      const text = library(name);
      const draft = draftFromYaml(text);
      if (typeof draft === "string") throw new Error(draft);
      const again = parseRecipe(draftYaml(draft)).recipe;
      expect(again).toEqual(parseRecipe(text).recipe);
    },
  );

  it("writes form edits and keeps fields the form does not show", () => {
    const draft = draftFromYaml(library("horizon-30"));
    if (typeof draft === "string") throw new Error(draft);
    draft.training.max_train_steps = 7;
    draft.questions[0]!.visual = { kind: "horizon", y: 0.25 };
    draft.base = { ...draft.base, training: { ...(draft.base.training as object), vae_tiling: true } };
    const recipe = parse(draftYaml(draft)) as {
      training: Record<string, unknown>;
      eval: Record<string, unknown>;
      questions: { visual_prompt?: unknown }[];
    };
    expect(recipe.training.max_train_steps).toBe(7);
    expect(recipe.training.vae_tiling).toBe(true);
    expect(recipe.training.checkpointing_steps).toBe(50); // from the shipped recipe, not shown in the form
    expect(recipe.eval.lora_scales).toEqual([0, 1]);
    expect(recipe.questions[0]!.visual_prompt).toEqual({ kind: "horizon", y: 0.25 });
  });

  it("shows the co-judges as a comma-separated field and writes the form's list, or none once it is cleared", () => {
    const draft = draftFromYaml(library("line-weight"));
    if (typeof draft === "string") throw new Error(draft);
    expect(draft.co_judges).toBe("scenes-judge-heldout");
    draft.co_judges = " scenes-judge-depth ,, scenes-judge-heldout ";
    expect(parseRecipe(draftYaml(draft)).recipe.co_judges).toEqual([
      "scenes-judge-depth",
      "scenes-judge-heldout",
    ]);
    draft.co_judges = " ";
    expect(parse(draftYaml(draft))).not.toHaveProperty("co_judges");
    expect(parseRecipe(draftYaml(draft)).recipe.co_judges).toEqual([]);
  });

  it("shows the keep questions a line each, keeps what the form does not show, and writes none once cleared", () => {
    const text =
      library("attribute-night") +
      "keep:\n  - question: Is the horizon low in the image?\n    weight: 2\n" +
      "  - question: Is the red line aligned with the horizon?\n    visual_prompt: { kind: horizon, y: 0.8 }\n" +
      "keep_judge: scenes-judge-audit\n";
    const draft = draftFromYaml(text);
    if (typeof draft === "string") throw new Error(draft);
    expect(draft.keep).toBe("Is the horizon low in the image?\nIs the red line aligned with the horizon?");
    expect(draft.keep_judge).toBe("scenes-judge-audit");
    expect(parseRecipe(draftYaml(draft)).recipe).toEqual(parseRecipe(text).recipe);
    draft.keep = "Is the red line aligned with the horizon?\n\n Is it overcast? ";
    draft.keep_judge = "";
    const again = parseRecipe(draftYaml(draft)).recipe;
    expect(again.keep).toEqual([
      {
        question: "Is the red line aligned with the horizon?",
        weight: 1,
        visual_prompt: { kind: "horizon", y: 0.8 },
      },
      { question: "Is it overcast?", weight: 1 },
    ]);
    expect(again.keep_judge).toBeNull();
    draft.keep = " ";
    expect(parse(draftYaml(draft))).not.toHaveProperty("keep");
    expect(parseRecipe(draftYaml(draft)).recipe.keep).toEqual([]);
  });

  it("keeps a palette question's pair weight, and writes none once the prompt is no palette", () => {
    const draft = draftFromYaml(library("palette-colours"));
    if (typeof draft === "string") throw new Error(draft);
    expect(draft.questions[0]!.pairWeight).toBeGreaterThan(0);
    draft.questions[0]!.pairWeight = 0.4;
    const written = () => parse(draftYaml(draft)) as { questions: { pair_weight?: number }[] };
    expect(written().questions[0]!.pair_weight).toBe(0.4);
    draft.questions[0]!.visual = { kind: "horizon", y: 0.3 };
    expect(written().questions[0]).not.toHaveProperty("pair_weight");
    expect(() => parseRecipe(draftYaml(draft))).not.toThrow();
  });

  it("keeps a question's `when` through the form", () => {
    const text =
      "prompts: {template: 'a {sky} lake', slots: {sky: [night, sunny]}}\nquestions:\n" +
      "  - question: Is the horizon low?\n  - question: Is the sky a night sky?\n    when: {sky: night}\n";
    const draft = draftFromYaml(text);
    if (typeof draft === "string") throw new Error(draft);
    expect(draft.questions[1]!.when).toBe("sky: night");
    expect(draft.questions[0]!.when).toBe("");
    // (the form writes its own training fields; the questions come back as written)
    expect(parseRecipe(draftYaml(draft)).recipe.questions).toEqual(parseRecipe(text).recipe.questions);
  });

  it("edits `when` as text: one value a string, several a list, empty for every prompt", () => {
    expect(whenValue("sky: night, sunset; thing: trees")).toEqual({
      sky: ["night", "sunset"],
      thing: "trees",
    });
    expect(whenValue("  ")).toBeUndefined();
    expect(whenText({ sky: ["night", "sunset"], thing: "trees" })).toBe("sky: night, sunset; thing: trees");
    const draft = draftFromYaml(library("horizon-30"));
    if (typeof draft === "string") throw new Error(draft);
    draft.questions[1]!.when = "sky: night";
    const recipe = parseRecipe(draftYaml(draft));
    expect(recipe.recipe.questions[1]!.when).toEqual({ sky: "night" });
    expect(recipe.questions.find((q) => q.question.includes("horizon high"))!.prompts).toHaveLength(4);
  });

  it("previews a template's first combination and says why bad YAML cannot be read", () => {
    expect(
      firstPrompt({
        mode: "template",
        template: "a {sky} land with {thing}",
        slots: "sky: sunny, night\nthing: trees",
      }),
    ).toBe("a sunny land with trees");
    expect(draftFromYaml("prompts: [a\nquestions: [")).toMatch(/^YAML: /);
  });
});
