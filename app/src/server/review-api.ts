/** The review page's data: the judge's answers on a run's held-out images, with a person's marks. */
import type { z } from "zod";
import type { Review } from "../protocol/studio.js";
import { parseRecipeIn } from "../recipes/load.js";
import { readMarks, reviewEntries, saveMarks, type Mark } from "../runs/review.js";
import { teachRecipe } from "../recipes/load.js";
import { writeTeachReport } from "../report/teach-report.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RequestError } from "./request-error.js";
import type { RunsStore } from "./runs-store.js";

export function reviewOf(store: RunsStore, id: string): z.infer<typeof Review> {
  const found = reviewEntries(store.dir(id));
  if (!found)
    throw new RequestError(`run ${id} has no evaluation yet: the judge's answers come from it`, 409);
  const recipe = recipeOf(store, id);
  const marks = readMarks(store.dir(id));
  return {
    judge: found.judge,
    items: found.entries.map((e) => ({
      key: e.key,
      image: `/api/runs/${id}/files/${e.image}`,
      prompt: e.prompt,
      seed: e.seed,
      lora_scale: e.lora_scale,
      question: recipe.questions[e.question_index]?.question ?? `question ${e.question_index}`,
      answer: recipe.questions[e.question_index]?.answer ?? "",
      visual_prompt: recipe.questions[e.question_index]?.visual_prompt ?? null,
      probability: e.probability,
      mark: marks[e.key] ?? null,
    })),
  };
}

/** Save the marks and rewrite the run's report.md so that its review section says what was marked. */
export function saveReview(
  store: RunsStore,
  id: string,
  changes: Record<string, Mark | null>,
): z.infer<typeof Review> {
  const known = new Set(reviewOf(store, id).items.map((i) => i.key));
  const unknown = Object.keys(changes).find((k) => !known.has(k));
  if (unknown) throw new RequestError(`no judge answer ${unknown} in run ${id}`);
  saveMarks(store.dir(id), changes);
  writeTeachReport(store.dir(id), recipeOf(store, id));
  return reviewOf(store, id);
}

function recipeOf(store: RunsStore, id: string) {
  const text = readFileSync(join(store.dir(id), "recipe.yaml"), "utf8");
  return teachRecipe(parseRecipeIn(text, store.root, `${id}/recipe.yaml`));
}
