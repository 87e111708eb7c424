import { describe, expect, it } from "vitest";
import { parseRecipe, RecipeError, teachRecipe } from "../../src/recipes/load.js";
import { TeachRecipe } from "../../src/recipes/schema.js";

const HEAD = `
prompts:
  template: "a {sky} landscape with {thing}"
  slots:
    sky: [sunny, night]
    thing: [trees, a house]
eval:
  prompts:
    template: "a {sky} desert"
    slots: { sky: [night, foggy] }
questions:
  - question: Is the red line aligned with the horizon?
`;

function asked(questions: string) {
  return teachRecipe(parseRecipe(HEAD + questions, "r.yaml")).questions;
}

function errorOf(questions: string, head = HEAD): string {
  try {
    parseRecipe(head + questions, "r.yaml");
  } catch (e) {
    expect(e).toBeInstanceOf(RecipeError);
    return (e as Error).message;
  }
  throw new Error("expected the recipe to be rejected");
}

describe("questions about each prompt's slot values", () => {
  it("leaves a question without when or {slot} asked of every image", () => {
    const questions = asked("");
    expect(questions).toHaveLength(1);
    expect(questions[0]).not.toHaveProperty("prompts");
  });

  it("asks a `when` question only of the training and evaluation prompts with those values", () => {
    const questions = asked(`
  - question: Is the sky a night sky?
    when: { sky: night }
    weight: 0.5
`);
    expect(questions).toHaveLength(2);
    expect(questions[1]).toMatchObject({ question: "Is the sky a night sky?", weight: 0.5 });
    expect(questions[1]!.prompts).toEqual([
      "a night landscape with trees",
      "a night landscape with a house",
      "a night desert",
    ]);
  });

  it("accepts a list of values and several slots", () => {
    const questions = asked(`
  - question: Is there a house?
    when: { sky: [sunny, night], thing: a house }
`);
    expect(questions[1]!.prompts).toEqual([
      "a sunny landscape with a house",
      "a night landscape with a house",
    ]);
  });

  it("fills a {slot} once per value, each asked of the prompts with that value", () => {
    const questions = asked(`
  - question: Does the image show {thing}?
    answer: "{thing}"
`);
    expect(questions.map((q) => q.question)).toEqual([
      "Is the red line aligned with the horizon?",
      "Does the image show trees?",
      "Does the image show a house?",
    ]);
    expect(questions[2]!.answer).toBe("a house");
    expect(questions[2]!.prompts).toEqual([
      "a sunny landscape with a house",
      "a night landscape with a house",
    ]);
  });

  it("combines a {slot} with `when`", () => {
    const questions = asked(`
  - question: Is the sky {sky}?
    when: { thing: trees }
`);
    expect(questions.slice(1).map((q) => [q.question, q.prompts])).toEqual([
      ["Is the sky sunny?", ["a sunny landscape with trees"]],
      ["Is the sky night?", ["a night landscape with trees"]], // the desert has no {thing}: not asked
    ]);
  });

  it("gives the engine a recipe its schema accepts", () => {
    const recipe = teachRecipe(parseRecipe(HEAD + "  - question: Is it {sky}?\n", "r.yaml"));
    expect(TeachRecipe.safeParse(recipe).success).toBe(true);
  });

  it("names an unknown slot, an unknown value, and a question asked of no prompt", () => {
    expect(errorOf("  - question: Is it {weather}?\n")).toBe(
      "r.yaml: questions[1]: {weather} is not a slot of the training prompts (slots: sky, thing)",
    );
    expect(errorOf("  - question: Is it night?\n    when: { weather: night }\n")).toBe(
      "r.yaml: questions[1].when: 'weather' is not a slot of the training prompts (slots: sky, thing)",
    );
    expect(errorOf("  - question: Is it night?\n    when: { sky: nite }\n")).toBe(
      'r.yaml: questions[1].when.sky: "nite" is not one of its values (sunny, night)',
    );
  });

  it("says when the prompts are not a template", () => {
    const head = 'prompts: ["a sunny landscape"]\nquestions:\n  - question: Is it good?\n';
    expect(errorOf("  - question: Is it {sky}?\n", head)).toBe(
      "r.yaml: questions[1]: {sky} is not a slot of the training prompts (the prompts are not a template)",
    );
  });

  it("refuses a recipe that asks some training prompt nothing with a weight", () => {
    const head = `
prompts:
  template: "a {sky} landscape"
  slots: { sky: [sunny, night] }
questions:
`;
    expect(errorOf("  - question: Is the sky a night sky?\n    when: { sky: night }\n", head)).toBe(
      'r.yaml: questions: no question with a weight > 0 is asked of the prompt "a sunny landscape"',
    );
  });

  it("rejects `when` that is not a mapping of slot values, with its place", () => {
    expect(errorOf("  - question: Is it night?\n    when: night\n")).toMatch(
      /^r\.yaml:\d+:\d+: questions\[1\]\.when: /,
    );
  });
});
