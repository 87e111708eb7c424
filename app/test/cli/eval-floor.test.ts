/**
 * The judge check for visual prompts no measurer reads: Scenes questions in the recipe's words about scenes
 * with their own points drawn, answered by the world, asked of the real shipped judge.
 */
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  checkJudgesOnQa,
  needsReadings,
  questionsWithSceneAnswers,
} from "../../src/cli/commands/eval-floor.js";
import { openEngineWorker } from "../../src/cli/engine-job.js";
import { Console } from "../../src/cli/io.js";
import { judgeRoles } from "../../src/eval/judge-check.js";
import type { TeachRecipe } from "../../src/recipes/schema.js";
import { capture } from "./capture.js";

const question = (text: string, answer: string, visual_prompt: unknown) =>
  ({ question: text, answer, visual_prompt, weight: 1 }) as unknown as TeachRecipe["questions"][number];

describe("questionsWithSceneAnswers", () => {
  it("takes yes/no questions about points, a layout or (plain) what a landscape shows, once each", () => {
    const points = { kind: "points", a: [0.2, 0.5], b: [0.7, 0.5] };
    const picked = questionsWithSceneAnswers([
      question("Is point A closer to the viewer than point B?", "Yes", points),
      question("Is point A closer to the viewer than point B?", "Yes", { ...points, a: [0.1, 0.1] }),
      question("Does the image follow the layout drawn on it?", "No", { kind: "layout", boxes: [] }),
      question("Is the red line aligned with the horizon?", "Yes", { kind: "horizon", y: 0.3 }),
      question("Which point is nearer?", "A", points),
      question("Is it night-time?", "Yes", undefined),
      question("Is there {thing} in the image?", "Yes", undefined), // each prompt its own: scenes have none
    ]);
    expect(picked.map((q) => [q.question, q.answer, q.family.families])).toEqual([
      ["Is point A closer to the viewer than point B?", "Yes", ["relative_depth"]],
      ["Does the image follow the layout drawn on it?", "No", ["layout_match"]],
      ["Is it night-time?", "Yes", ["horizon_band", "sky", "time_of_day"]],
    ]);
  });
});

describe("needsReadings", () => {
  it("reads a plain question or two points (closer or farther), not a line, a palette or a layout", () => {
    const points = { kind: "points", a: [0.2, 0.5], b: [0.7, 0.5] };
    expect(needsReadings([question("Is it night-time?", "Yes", undefined)])).toBe(true);
    expect(needsReadings([question("Is point A closer to the viewer than point B?", "Yes", points)])).toBe(
      true,
    );
    const drawn = [
      question("Is the red line aligned with the horizon?", "Yes", { kind: "horizon", y: 0.3 }),
      question("Does the image follow the layout drawn on it?", "Yes", { kind: "layout", boxes: [] }),
    ];
    expect(needsReadings(drawn)).toBe(false);
  });
});

describe("checkJudgesOnQa", () => {
  it("scores the shipped judge on relative depth, and finds nothing to check in words of no Scenes phrasing", async () => {
    const console = new Console(capture(), "quiet");
    const worker = await openEngineWorker(console);
    const dir = mkdtempSync(join(tmpdir(), "eval-floor-"));
    const signal = new AbortController().signal;
    const alone = judgeRoles("scenes-judge", [], null);
    try {
      const [depth] = questionsWithSceneAnswers([
        question("Is point A closer to the viewer than point B?", "Yes", { kind: "points" }),
      ]);
      const [check] = await checkJudgesOnQa(console, depth!, alone, join(dir, "a"), {
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
      expect(await checkJudgesOnQa(console, unknown, alone, join(dir, "b"), { signal, worker })).toEqual([]);

      // a plain question: the scenes as rendered, asked of every judge in its role (the held-out one in its
      // own words; the audit judge knows every phrasing)
      const [night] = questionsWithSceneAnswers([question("Is it night-time?", "Yes", undefined)]);
      const judges = judgeRoles("scenes-judge", ["scenes-judge-audit"], "scenes-judge-heldout");
      const checks = await checkJudgesOnQa(console, night!, judges, join(dir, "c"), { signal, worker });
      expect(checks.map((c) => [c.judge, c.role, c.asked_as])).toEqual([
        ["scenes-judge", "training", undefined],
        ["scenes-judge-audit", "co-judge", undefined],
        ["scenes-judge-heldout", "held-out", "Does this take place at night?"],
      ]);
      for (const c of checks) {
        expect(c.renders.pass).toBeGreaterThanOrEqual(10);
        expect(c.right!.mean).toBeGreaterThan(0.85); // judge.md: time of day 97-99% in each judge's own words
      }
      // the scenes asked about stay, as rendered, and nothing else
      const kept = readdirSync(join(dir, "c")).filter((f) => f.endsWith(".png"));
      expect(kept.length).toBeGreaterThan(0);
      expect(kept.length).toBeLessThanOrEqual(checks[0]!.renders.pass + checks[0]!.renders.fail);
      expect(readdirSync(join(dir, "c", "qa"))).toEqual([]);
    } finally {
      await worker.close();
    }
  }, 120_000);
});
