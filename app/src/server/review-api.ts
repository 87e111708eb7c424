/** The review page's data: the judge's answers on a run's held-out images, with a person's marks. */
import type { z } from "zod";
import type { Review } from "../protocol/studio.js";
import { readMarks, reviewEntries, saveMarks, type Mark } from "../runs/review.js";
import { writeTeachReport } from "../report/teach-report.js";
import { RequestError } from "./request-error.js";
import type { RunsStore } from "../runs/runs-store.js";

export function reviewOf(store: RunsStore, id: string): z.infer<typeof Review> {
  const found = reviewEntries(store.dir(id));
  if (!found)
    throw new RequestError(`run ${id} has no evaluation yet: the judge's answers come from it`, 409);
  const recipe = store.recipe(id);
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
  const review = reviewOf(store, id);
  const known = new Set(review.items.map((i) => i.key));
  const unknown = Object.keys(changes).find((k) => !known.has(k));
  if (unknown) throw new RequestError(`no judge answer ${unknown} in run ${id}`);
  const marks = saveMarks(store.dir(id), changes);
  writeTeachReport(store.dir(id), store.recipe(id));
  return { ...review, items: review.items.map((i) => ({ ...i, mark: marks[i.key] ?? null })) };
}
