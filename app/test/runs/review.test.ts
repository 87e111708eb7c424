import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { reviewEntries } from "../../src/runs/review.js";

describe("the review's entries", () => {
  it("offers no answer to a question that was not asked of the image's prompt", () => {
    const run = mkdtempSync(join(tmpdir(), "review-"));
    mkdirSync(join(run, "eval"));
    const images = ["a night lake", "a sunny lake"].map((prompt, p) => ({
      path: join(run, "eval", `p${p}.png`),
      prompt_index: p,
      prompt,
      seed: 0,
      lora_scale: 1,
    }));
    const result = {
      out_dir: join(run, "eval"),
      questions: ["Is the horizon low?", "Is the sky a night sky?"],
      images,
      grids: [],
      judges: [
        {
          judge: "scenes-judge",
          probabilities: [
            [0.2, 0.9],
            [0.3, null],
          ],
        },
      ],
    };
    writeFileSync(join(run, "eval", "run.json"), JSON.stringify({ status: "succeeded", result }));
    const entries = reviewEntries(run)!.entries;
    expect(entries.map((e) => [e.prompt, e.question_index, e.probability])).toEqual([
      ["a night lake", 0, 0.2],
      ["a night lake", 1, 0.9],
      ["a sunny lake", 0, 0.3],
    ]);
  });
});
