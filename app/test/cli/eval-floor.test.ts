/**
 * The judge check for visual prompts no measurer reads: Scenes questions in the recipe's words about scenes
 * with their own points drawn, answered by the world, asked of the real shipped judge.
 */
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkJudgesOnQa, questionsWithSceneAnswers } from "../../src/cli/commands/eval-floor.js";
import { openEngineWorker } from "../../src/cli/engine-job.js";
import { Console } from "../../src/cli/io.js";
import type { TeachRecipe } from "../../src/recipes/schema.js";
import { capture } from "./capture.js";

const question = (text: string, answer: string, visual_prompt: unknown) =>
  ({ question: text, answer, visual_prompt, weight: 1 }) as unknown as TeachRecipe["questions"][number];

describe("questionsWithSceneAnswers", () => {
  it("takes yes/no questions about points or a layout, once each", () => {
    const points = { kind: "points", a: [0.2, 0.5], b: [0.7, 0.5] };
    const picked = questionsWithSceneAnswers([
      question("Is point A closer to the viewer than point B?", "Yes", points),
      question("Is point A closer to the viewer than point B?", "Yes", { ...points, a: [0.1, 0.1] }),
      question("Does the image follow the layout drawn on it?", "No", { kind: "layout", boxes: [] }),
      question("Is the red line aligned with the horizon?", "Yes", { kind: "horizon", y: 0.3 }),
      question("Which point is nearer?", "A", points),
    ]);
    expect(picked.map((q) => [q.question, q.answer, q.family.family])).toEqual([
      ["Is point A closer to the viewer than point B?", "Yes", "relative_depth"],
      ["Does the image follow the layout drawn on it?", "No", "layout_match"],
    ]);
  });
});

describe("checkJudgesOnQa", () => {
  it("scores the shipped judge on relative depth, and finds nothing to check in words of no Scenes phrasing", async () => {
    const console = new Console(capture(), "quiet");
    const worker = await openEngineWorker(console);
    const dir = mkdtempSync(join(tmpdir(), "eval-floor-"));
    const signal = new AbortController().signal;
    try {
      const [depth] = questionsWithSceneAnswers([
        question("Is point A closer to the viewer than point B?", "Yes", { kind: "points" }),
      ]);
      const [check] = await checkJudgesOnQa(console, depth!, ["scenes-judge"], join(dir, "a"), {
        signal,
        worker,
      });
      expect(check!.renders.pass).toBeGreaterThan(20);
      expect(check!.renders.fail).toBeGreaterThan(20);
      expect(check!.right!.mean).toBeGreaterThan(0.75); // judge.md: 84% on relative depth in its own words
      // only the images asked about stay
      expect(readdirSync(join(dir, "a", "qa"))).toHaveLength(check!.renders.pass + check!.renders.fail);
      expect(readdirSync(join(dir, "a")).filter((f) => f.endsWith(".png"))).toEqual([]);
      const unknown = { ...depth!, question: "Is the thing at A nearer than the thing at B?" };
      expect(
        await checkJudgesOnQa(console, unknown, ["scenes-judge"], join(dir, "b"), { signal, worker }),
      ).toEqual([]);
    } finally {
      await worker.close();
    }
  }, 120_000);
});
