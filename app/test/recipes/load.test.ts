import { describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  loadRecipeFile,
  parseRecipe,
  parseRecipeIn,
  RecipeError,
  resolvedRecipeYaml,
} from "../../src/recipes/load.js";
import { Recipe } from "../../src/recipes/schema.js";

const example = fileURLToPath(new URL("../../../recipes/horizon-low.yaml", import.meta.url));

function errorOf(text: string): string {
  try {
    parseRecipe(text, "r.yaml");
  } catch (e) {
    expect(e).toBeInstanceOf(RecipeError);
    return (e as Error).message;
  }
  throw new Error("expected the recipe to be rejected");
}

describe("recipe loading", () => {
  it("loads the shipped example, expanding the template and filling defaults", () => {
    const { recipe, prompts, evalPrompts } = loadRecipeFile(example);
    expect(prompts).toHaveLength(12);
    expect(prompts).toContain("a night landscape with a house");
    expect(evalPrompts).toEqual(["a snowy landscape with a person", "a sandy desert at dusk"]);
    expect(recipe.questions[0]!.answer).toBe("Yes");
    expect(recipe.training.learning_rate).toBe(1e-3); // its own
    expect(recipe.training.max_grad_norm).toBe(1); // a default
  });

  it("writes the resolved recipe back as YAML that loads to the same recipe", () => {
    const { recipe } = loadRecipeFile(example);
    const again = parseRecipe(resolvedRecipeYaml(recipe)).recipe;
    expect(again).toEqual(recipe);
  });

  it("names an unknown key with its line and the allowed keys", () => {
    const message = errorOf("prompts: a farm\nquestions:\n  - question: Is it sunny?\n    answr: No\n");
    expect(message).toBe(
      "r.yaml:4:5: questions[0]: unknown key 'answr', did you mean 'answer'? (allowed: question, answer, weight, visual_prompt, pair_weight, when)",
    );
  });

  it("suggests the field or value a typo meant, and nothing when no name is near", () => {
    const base = "prompts: a farm\nquestions: [{question: ok}]\ntraining:\n  ";
    expect(errorOf(base + "max_train_step: 5\n")).toContain(
      "unknown key 'max_train_step', did you mean 'max_train_steps'? (allowed: ",
    );
    expect(errorOf(base + "lr: 0.1\n")).toMatch(/unknown key 'lr' \(allowed: /);
    expect(errorOf(base + "judge_augment: [vflp]\n")).toMatch(
      /training\.judge_augment\[0\]: .*, did you mean 'vflip'\?$/,
    );
    const kind = errorOf(
      "prompts: x\nquestions:\n  - question: q\n    visual_prompt: {kind: horzon, y: 0.5}\n",
    );
    expect(kind).toMatch(/is not one of horizon, .*, did you mean 'horizon'\?$/);
  });

  it("names a bad value and its place", () => {
    const message = errorOf("prompts: a farm\nquestions: [{question: ok}]\ntraining:\n  learning_rate: -1\n");
    expect(message).toMatch(/^r\.yaml:4:18: training\.learning_rate: .*>0/);
  });

  it("takes gradient checkpointing as a switch or a list of parts, and says which parts there are", () => {
    const base = "prompts: a farm\nquestions: [{question: ok}]\ntraining:\n  gradient_checkpointing: ";
    expect(parseRecipe(base + "[decoder, generator]\n").recipe.training.gradient_checkpointing).toEqual([
      "decoder",
      "generator",
    ]);
    expect(parseRecipe(base + "true\n").recipe.training.gradient_checkpointing).toBe(true);
    for (const bad of ["[vae]", "[]", "[judge, judge]", "yes"]) {
      const message = errorOf(base + bad + "\n");
      expect(message).toMatch(/^r\.yaml:4:\d+: training\.gradient_checkpointing/);
      expect(message.split("\n")).toHaveLength(1);
      expect(message).toContain("a list of the parts to checkpoint (generator, decoder, judge)");
    }
  });

  it("lists the visual prompt kinds when the kind is wrong", () => {
    const message = errorOf(
      "prompts: x\nquestions:\n  - question: q\n    visual_prompt: {kind: horzon, y: 0.5}\n",
    );
    expect(message).toMatch(
      /questions\[0\]\.visual_prompt\.kind: "horzon" is not one of horizon, palette, stroke/,
    );
  });

  it("rejects empty questions, missing fields, bad colours and YAML syntax with one line each", () => {
    const cases = [
      errorOf("prompts: x\nquestions: [{question: '  '}]\n"),
      errorOf("questions: [{question: q}]\n"),
      errorOf("prompts: x\nquestions: [{question: q, visual_prompt: {kind: palette, colors: ['#12345']}}]\n"),
      errorOf("prompts: [x\nquestions: [\n"),
      errorOf("prompts: x\nquestions: [{question: q, weight: 0}]\n"),
      errorOf("prompts: {template: 'a {sky} scene', slots: {ground: [sand]}}\nquestions: [{question: q}]\n"),
    ];
    expect(cases[0]).toMatch(/questions\[0\]\.question: must not be empty/);
    expect(cases[1]).toMatch(/^r\.yaml:1:1: prompts: required field is missing/);
    expect(cases[2]).toMatch(/colors\[0\]: expected a colour like #aabbcc/);
    expect(cases[3]).toMatch(/^r\.yaml:\d+:\d+: YAML syntax error/);
    expect(cases[4]).toMatch(/every weight is 0/);
    expect(cases[5]).toMatch(/uses \{sky\} but slots has no 'sky'/);
    for (const message of cases) expect(message).not.toContain("\n");
  });

  it("takes co-teaching judges, none of them the held-out judge or the training judge again", () => {
    const ok = parseRecipe("prompts: x\nquestions: [{question: q}]\nco_judges: [other-judge]\n", "r.yaml");
    expect(ok.recipe.co_judges).toEqual(["other-judge"]);
    expect(parseRecipe("prompts: x\nquestions: [{question: q}]\n", "r.yaml").recipe.co_judges).toEqual([]);
    expect(errorOf("prompts: x\nquestions: [{question: q}]\nco_judges: [scenes-judge-heldout]\n")).toMatch(
      /co_judges: scenes-judge-heldout is the held-out judge; a judge that teaches the LoRA cannot check it/,
    );
    expect(errorOf("prompts: x\nquestions: [{question: q}]\nco_judges: [scenes-judge]\n")).toMatch(
      /each judge may teach once/,
    );
  });

  it("takes keep questions, asked of a judge that is not the held-out one", () => {
    const text =
      "prompts: x\nquestions: [{question: q}]\nkeep: [{question: Is the horizon low in the image?}]\n";
    const ok = parseRecipe(`${text}keep_judge: scenes-judge-audit\n`, "r.yaml").recipe;
    expect(ok.keep).toEqual([{ question: "Is the horizon low in the image?", weight: 1 }]);
    expect([ok.keep_judge, ok.training.keep_weight]).toEqual(["scenes-judge-audit", 1]);
    const plain = parseRecipe("prompts: x\nquestions: [{question: q}]\n", "r.yaml").recipe;
    expect([plain.keep, plain.keep_judge]).toEqual([[], null]);
    expect(errorOf(`${text}keep_judge: scenes-judge-heldout\n`)).toMatch(
      /keep_judge: scenes-judge-heldout is the held-out judge; a judge the LoRA is taught against cannot check it/,
    );
    expect(errorOf("prompts: x\nquestions: [{question: q}]\nkeep: [{question: q, answer: No}]\n")).toMatch(
      /keep\[0\]: unknown key 'answer'/,
    );
  });

  it("refuses text that a ' #' would silently cut into a comment, and keeps real comments", () => {
    const cut = errorOf("prompts: x\nquestions:\n  - question: Is the sky #87ceeb or #ffffff?\n");
    expect(cut).toMatch(/^r\.yaml:3:25: "#87ceeb" starts a YAML comment/);
    expect(cut).toContain('this text stops at "Is the sky"; put the whole text in quotes');
    const fine = parseRecipe(
      "prompts: x # one prompt\nquestions:\n  - question: 'Is the sky #87ceeb or #ffffff?'\n",
      "r.yaml",
    );
    expect(fine.recipe.questions[0]!.question).toBe("Is the sky #87ceeb or #ffffff?");
    expect(fine.prompts).toEqual(["x"]);
  });

  it("makes image paths absolute, so a run folder's own recipe still finds its images", () => {
    const dir = mkdtempSync(join(tmpdir(), "recipe-"));
    writeFileSync(join(dir, "ref.png"), "");
    const text =
      "prompts: a\nquestions:\n  - question: Q?\n    visual_prompt: { kind: image, path: ref.png }\n";
    const { recipe } = parseRecipeIn(text, dir, "r.yaml");
    expect(recipe.questions[0]!.visual_prompt).toEqual({ kind: "image", path: join(dir, "ref.png") });
    const elsewhere = mkdtempSync(join(tmpdir(), "run-"));
    writeFileSync(join(elsewhere, "recipe.yaml"), resolvedRecipeYaml(recipe));
    expect(loadRecipeFile(join(elsewhere, "recipe.yaml")).recipe.questions[0]!.visual_prompt).toEqual({
      kind: "image",
      path: join(dir, "ref.png"),
    });
  });

  it("describes every field", () => {
    const undescribed: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (node === null || typeof node !== "object") return;
      const record = node as Record<string, unknown>;
      const properties = record.properties as Record<string, Record<string, unknown>> | undefined;
      for (const [key, child] of Object.entries(properties ?? {})) {
        const described =
          "description" in child ||
          ((child.anyOf ?? child.oneOf) as unknown[] | undefined)?.every(
            (alt) => typeof alt === "object" && alt !== null && "description" in alt,
          );
        if (!described) undescribed.push(`${path}.${key}`);
        walk(child, `${path}.${key}`);
      }
      for (const sub of ["items", "anyOf", "oneOf", "prefixItems", "additionalProperties"]) {
        const value = record[sub];
        if (Array.isArray(value)) value.forEach((v) => walk(v, path));
        else walk(value, path);
      }
    };
    walk(z.toJSONSchema(Recipe, { io: "input" }), "recipe");
    expect(undescribed).toEqual([]);
  });
});
