/**
 * Talking to the studio's server: every response is parsed with its schema from protocol/studio.ts (never
 * cast), and every failure becomes an ApiFailure with the server's one line, for the page to show.
 */
import type { z } from "zod";
import {
  ApiError,
  Generated,
  Models,
  RecipeLibrary,
  Review,
  RunList,
  RunSummary,
  Started,
  Stopping,
  Upload,
  Validated,
  type GenerateRequest,
  type StartRun,
} from "../../src/protocol/studio.js";

export class ApiFailure extends Error {
  override name = "ApiFailure";
}

async function call<T extends z.ZodType>(schema: T, path: string, init?: RequestInit): Promise<z.output<T>> {
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiFailure("the studio's server does not answer: is `dualproc studio` still running?");
  }
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const error = ApiError.safeParse(body);
    throw new ApiFailure(error.success ? error.data.error : `the server answered ${response.status}`);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success)
    throw new ApiFailure(`unexpected answer from ${path}: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

const json = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

export const api = {
  runs: () => call(RunList, "/api/runs"),
  run: (id: string) => call(RunSummary, `/api/runs/${id}`),
  start: (body: StartRun) => call(Started, "/api/runs", json("POST", body)),
  resume: (id: string) => call(Started, `/api/runs/${id}/resume`, { method: "POST" }),
  stop: (id: string) => call(Stopping, `/api/runs/${id}/stop`, { method: "POST" }),
  validate: (recipe_yaml: string) => call(Validated, "/api/recipes/validate", json("POST", { recipe_yaml })),
  recipes: () => call(RecipeLibrary, "/api/recipes"),
  models: () => call(Models, "/api/models"),
  generate: (body: GenerateRequest) => call(Generated, "/api/generate", json("POST", body)),
  upload: (file: File) => {
    const form = new FormData();
    form.append("file", file);
    return call(Upload, "/api/uploads", { method: "POST", body: form });
  },
  review: (id: string) => call(Review, `/api/runs/${id}/review`),
  saveReview: (id: string, marks: Record<string, "right" | "wrong" | null>) =>
    call(Review, `/api/runs/${id}/review`, json("PUT", { marks })),
};

/** A file of run `id` as the page links to it. */
export const runFile = (id: string, path: string, download = false) =>
  `/api/runs/${id}/files/${path}${download ? "?download" : ""}`;
