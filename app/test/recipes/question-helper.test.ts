import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseRecipe } from "../../src/recipes/load.js";
import { questionsYaml, suggestQuestions, QuestionHelperError } from "../../src/recipes/question-helper.js";

describe("the question helper", () => {
  it("recognises a visual-prompt control, keeps the question first and suggests its prompt", () => {
    const s = suggestQuestions("is the red line on the horizon", 4);
    expect(s.kind).toBe("horizon");
    expect(s.phrasings).toHaveLength(4);
    expect(s.phrasings[0]).toBe("Is the red line on the horizon?");
    expect(new Set(s.phrasings.map((q) => q.toLowerCase())).size).toBe(4);
    expect(s.phrasings.every((q) => /horizon|sky meets the ground/.test(q))).toBe(true);
    expect(s.visualPrompt).toEqual({ kind: "horizon", y: 0.5 });
    expect(suggestQuestions("Are the strokes as thick as the sample?").visualPrompt?.kind).toBe("stroke");
    expect(suggestQuestions("Does it use these colours?").visualPrompt?.kind).toBe("palette");
    expect(suggestQuestions("Is point A nearer than point B?").visualPrompt?.kind).toBe("points");
  });

  it("rephrases plain yes/no questions by rule, with no visual prompt", () => {
    const there = suggestQuestions("Is there a cat on the sofa?");
    expect(there.kind).toBe("plain");
    expect(there.visualPrompt).toBeNull();
    expect(there.phrasings).toContain("Does the image contain a cat on the sofa?");
    expect(suggestQuestions("Are the trees green?").phrasings).toContain("Do the trees look green?");
    const band = suggestQuestions("Is the horizon high in the image?");
    expect(band.kind).toBe("plain"); // no red line: a question about the picture as it is
    expect(band.phrasings).toContain("Looking at the image, is the horizon high in the image?");
  });

  it("does not say 'in the image' twice, and keeps a {slot} as written", () => {
    const phrasings = suggestQuestions("Is there {thing} in the image?").phrasings;
    expect(phrasings).toEqual([
      "Is there {thing} in the image?",
      "Does the image contain {thing}?",
      "Can you see {thing} in the image?",
      "Is {thing} visible in the image?",
      "Looking at the image, is there {thing} in the image?",
    ]);
  });

  it("refuses what is not a yes/no question, saying what to write", () => {
    expect(() => suggestQuestions("make it pretty")).toThrow(QuestionHelperError);
    expect(() => suggestQuestions("   ")).toThrow(/empty/);
  });

  it("writes a questions block that a recipe loads, weights summing to about 1", () => {
    const yaml = questionsYaml(suggestQuestions("Is the red line on the horizon?", 3), "Yes");
    const { recipe } = parseRecipe(`prompts: [a lake]\n${yaml}`, "r.yaml");
    expect(recipe.questions).toHaveLength(3);
    expect(recipe.questions.every((q) => q.visual_prompt?.kind === "horizon")).toBe(true);
    const weights = (parse(yaml) as { questions: { weight: number }[] }).questions.map((q) => q.weight);
    expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);
  });
});
