/**
 * Human review of the training judge: a person looks at the judge's answers on a run's held-out images and
 * marks the ones it got wrong. The answers come from the evaluation (eval/run.json holds every judge's
 * probability per image and question); the marks are kept in the run folder as review.json and summarised
 * in the run's report.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { z } from "zod";
import { EvaluateResult } from "../protocol/messages.js";
import type { TeachRecipe } from "../recipes/schema.js";

/** Seeds per prompt and scale shown for review: enough to spot a pattern, few enough to get through. */
export const REVIEW_SEEDS_PER_PROMPT = 4;

export type Mark = "right" | "wrong";

export interface ReviewEntry {
  /** `<image path in the run folder>#<question index>`: stable across reloads. */
  key: string;
  image: string;
  prompt: string;
  seed: number;
  lora_scale: number;
  question_index: number;
  probability: number;
}

const EvalRunJson = z.object({ result: EvaluateResult.nullable() });
const ReviewFile = z.object({
  updated_at: z.string(),
  marks: z.record(z.string(), z.enum(["right", "wrong"])),
});

/** The training judge's answers on a sample of the evaluation images, or null before an evaluation. */
export function reviewEntries(runDir: string): { judge: string; entries: ReviewEntry[] } | null {
  const path = join(runDir, "eval", "run.json");
  if (!existsSync(path)) return null;
  const parsed = EvalRunJson.safeParse(JSON.parse(readFileSync(path, "utf8")));
  const result = parsed.success ? parsed.data.result : null;
  const judge = result?.judges[0];
  if (!result || !judge) return null;
  const seedsOf = new Map<number, number[]>();
  for (const image of result.images) {
    const seeds = seedsOf.get(image.prompt_index) ?? [];
    if (!seeds.includes(image.seed)) seeds.push(image.seed);
    seedsOf.set(image.prompt_index, seeds);
  }
  const entries = result.images.flatMap((image, i) => {
    const shown = seedsOf.get(image.prompt_index)!.slice(0, REVIEW_SEEDS_PER_PROMPT);
    if (!shown.includes(image.seed)) return [];
    const file = relative(runDir, image.path).split(sep).join("/");
    return result.questions.flatMap((_, q) => {
      const probability = judge.probabilities[i]?.[q];
      if (probability === null) return []; // asked only of other prompts' images
      return [
        {
          key: `${file}#${q}`,
          image: file,
          prompt: image.prompt,
          seed: image.seed,
          lora_scale: image.lora_scale,
          question_index: q,
          probability: probability ?? NaN,
        },
      ];
    });
  });
  return { judge: judge.judge, entries };
}

export function readMarks(runDir: string): Record<string, Mark> {
  const path = join(runDir, "review.json");
  if (!existsSync(path)) return {};
  try {
    const parsed = ReviewFile.safeParse(JSON.parse(readFileSync(path, "utf8")));
    return parsed.success ? parsed.data.marks : {};
  } catch {
    return {};
  }
}

/** Merge `changes` into the saved marks (null clears one); written atomically. Returns the marks now. */
export function saveMarks(runDir: string, changes: Record<string, Mark | null>): Record<string, Mark> {
  const marks = readMarks(runDir);
  for (const [key, mark] of Object.entries(changes)) {
    if (mark === null) delete marks[key];
    else marks[key] = mark;
  }
  const path = join(runDir, "review.json");
  writeFileSync(
    path + ".tmp",
    JSON.stringify({ updated_at: new Date().toISOString(), marks }, null, 1) + "\n",
  );
  renameSync(path + ".tmp", path);
  return marks;
}

/** The review section of the run's report.md: how many answers a person checked, and the wrong ones. */
export function reviewMarkdown(runDir: string, recipe: TeachRecipe): string[] {
  const marks = readMarks(runDir);
  const keys = Object.keys(marks);
  if (keys.length === 0) return [];
  const wrong = keys.filter((k) => marks[k] === "wrong").sort();
  const lines = [
    "## Human review of the judge",
    "",
    `A person checked ${keys.length} of the training judge's answers on held-out images and marked ` +
      `${wrong.length} wrong (${((100 * wrong.length) / keys.length).toFixed(0)}%).`,
    "",
  ];
  if (wrong.length > 0) {
    lines.push("| image | question | wanted answer |", "|---|---|---|");
    for (const key of wrong) {
      const [image, q] = key.split("#");
      const question = recipe.questions[Number(q)];
      lines.push(`| ![](${image}) | ${question?.question ?? `question ${q}`} | ${question?.answer ?? ""} |`);
    }
    lines.push("");
  }
  return lines;
}
