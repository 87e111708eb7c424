/**
 * The studio's HTTP API and the page's files, as one Hono app. Every body in and out is a schema of
 * protocol/studio.ts; every user mistake is a 4xx with one line in `error`; a bug is a 500 that says so.
 * Access control (the token) and the host check live in access.ts; the live stream in events.ts.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { extname, join } from "node:path";
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { z } from "zod";
import { EngineError } from "../engine/errors.js";
import { ImageReadError } from "../images/read.js";
import {
  ApiError,
  GenerateRequest,
  ReviewMarks,
  RunId,
  StartRun,
  type StudioEvent,
} from "../protocol/studio.js";
import { RecipeError, loadRecipeFile, parseRecipeIn, resolvedRecipeYaml } from "../recipes/load.js";
import { EVAL_DEFAULTS } from "../cli/commands/eval.js";
import { lineChartSvg } from "../report/score-chart.js";
import { readMetrics, scoreSeries } from "../report/teach-report.js";
import {
  LORA_FILE,
  trainedGenerator,
  trainedGuidance,
  trainedResolution,
  trainedSteps,
} from "../runs/lora.js";
import { newRunDir } from "../runs/run-folder.js";
import { libraryRecipes } from "./library.js";
import { reviewOf, saveReview } from "./review-api.js";
import { eventStream, type Hub } from "./events.js";
import { RequestError } from "./request-error.js";
import type { RunsStore } from "../runs/runs-store.js";
import type { Tools } from "./tools.js";
import type { Trainer } from "./trainer.js";
import { MAX_UPLOAD_BYTES, UploadError, storeUpload } from "./uploads.js";

export interface StudioDeps {
  store: RunsStore;
  trainer: Trainer;
  tools: Tools;
  hub: Hub<StudioEvent>;
  /** The built page (app/web/dist); null serves a page saying how to build it. */
  webDir: string | null;
  libraryDir: string;
  scratchDir: string;
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".json": "application/json",
  ".jsonl": "application/x-ndjson",
  ".md": "text/markdown; charset=utf-8",
  ".yaml": "text/yaml; charset=utf-8",
  ".safetensors": "application/octet-stream",
};

export function studioApp(deps: StudioDeps): Hono {
  const { store, trainer, tools, hub } = deps;
  const app = new Hono();
  /** The run the path names, if the runs folder or the queue has it. */
  const runId = (c: Context): string => {
    const id = validRunId(c);
    if (!store.has(id) && !trainer.isQueued(id)) throw new RequestError(`no run ${id}`, 404);
    return id;
  };

  app.onError((error, c) => {
    const known = userError(error);
    if (known) return c.json(ApiError.parse({ error: known.message }), known.status);
    console.error(error);
    return c.json(
      { error: `internal error (a bug; the studio's terminal has the trace): ${error.message}` },
      500,
    );
  });

  // --- runs ------------------------------------------------------------------------------------------
  app.get("/api/runs", (c) => c.json({ runs: trainer.list(), active: trainer.activeId }));

  app.post("/api/runs", async (c) => {
    const body = parseBody(StartRun, await jsonBody(c));
    const resolved = parseRecipeIn(body.recipe_yaml, store.root, "recipe");
    const name = (resolved.recipe.name ?? "studio").replace(/[^\w.-]+/g, "-");
    const out = newRunDir(store.root, name);
    const id = out.slice(store.root.length + 1);
    // The folder and its recipe exist from now on, so a queued run is listed like any other.
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "recipe.yaml"), resolvedRecipeYaml(resolved.recipe));
    const plan = { source: "studio", recipeDir: store.root, resolved, out, resume: false };
    const position = trainer.enqueue(id, plan, body.eval_seeds);
    return c.json({ id, position }, 202);
  });

  app.get("/api/runs/:id", (c) => c.json(trainer.summary(runId(c))));

  app.post("/api/runs/:id/stop", (c) => {
    const id = runId(c);
    if (!trainer.stop(id)) throw new RequestError(`run ${id} is not running or queued`, 409);
    return c.json({ stopping: id });
  });

  // Continue a stopped or crashed run from its last checkpoint, as `dualproc teach --resume` does.
  app.post("/api/runs/:id/resume", (c) => {
    const id = runId(c);
    if (trainer.activeId === id || trainer.isQueued(id))
      throw new RequestError(`run ${id} is already running or queued`, 409);
    if (!store.summary(id).resumable)
      throw new RequestError(`run ${id} has no checkpoint to resume from, or it finished`, 409);
    const dir = store.dir(id);
    const resolved = loadRecipeFile(join(dir, "recipe.yaml"));
    const plan = { source: id, recipeDir: dir, resolved, out: dir, resume: true };
    return c.json({ id, position: trainer.enqueue(id, plan, EVAL_DEFAULTS.seeds) }, 202);
  });

  app.get("/api/runs/:id/recipe", (c) => {
    const id = runId(c);
    return c.text(readFileSync(join(store.dir(id), "recipe.yaml"), "utf8"));
  });

  // The live score curve: the same chart as the run's report, from metrics.jsonl as it grows.
  app.get("/api/runs/:id/score-curve.svg", (c) => {
    const id = runId(c);
    const recipe = store.recipe(id);
    const svg = lineChartSvg(scoreSeries(readMetrics(store.dir(id)), recipe), "step", "value");
    return c.body(svg, 200, { "content-type": CONTENT_TYPES[".svg"]!, "cache-control": "no-store" });
  });

  app.get("/api/runs/:id/files/*", (c) => {
    const id = runId(c);
    const rel = decodeURIComponent(c.req.path.slice(`/api/runs/${id}/files/`.length));
    const path = store.file(id, rel);
    if (!path) throw new RequestError(`run ${id} has no file ${rel}`, 404);
    return sendFile(c, path, c.req.query("download") !== undefined);
  });

  app.get("/api/runs/:id/review", (c) => c.json(reviewOf(store, runId(c))));
  app.put("/api/runs/:id/review", async (c) => {
    const id = runId(c);
    return c.json(saveReview(store, id, parseBody(ReviewMarks, await jsonBody(c)).marks));
  });

  // --- recipes ---------------------------------------------------------------------------------------
  app.get("/api/recipes", (c) => c.json({ recipes: libraryRecipes(deps.libraryDir) }));

  app.post("/api/recipes/validate", async (c) => {
    const body = parseBody(StartRun, await jsonBody(c));
    try {
      const resolved = parseRecipeIn(body.recipe_yaml, store.root, "recipe");
      return c.json({
        ok: true,
        prompts: resolved.prompts.length,
        questions: resolved.questions.map((q) => q.question),
        steps: resolved.recipe.training.max_train_steps,
      });
    } catch (error) {
      if (error instanceof RecipeError) return c.json({ ok: false, error: error.message });
      throw error;
    }
  });

  // --- pictures --------------------------------------------------------------------------------------
  app.post(
    "/api/uploads",
    bodyLimit({
      maxSize: MAX_UPLOAD_BYTES + 64 * 1024,
      onError: () => {
        throw new RequestError(`the file is too large (at most ${MAX_UPLOAD_BYTES / 2 ** 20} MB)`, 413);
      },
    }),
    async (c) => {
      const form = await c.req.parseBody().catch(() => {
        throw new RequestError("expected a form upload with a 'file' field");
      });
      const file = form.file;
      if (!(file instanceof File)) throw new RequestError("expected a form upload with a 'file' field");
      const stored = storeUpload(store.root, new Uint8Array(await file.arrayBuffer()), file.name || "upload");
      return c.json({
        path: stored.path,
        url: `/api/uploads/${stored.path.slice("uploads/".length)}`,
        colours: stored.colours,
      });
    },
  );

  app.get("/api/uploads/:name", (c) => {
    const name = c.req.param("name");
    const path = join(store.root, "uploads", name);
    if (!/^[0-9a-f]{16}\.(png|jpg)$/.test(name) || !existsSync(path))
      throw new RequestError(`no upload ${name}`, 404);
    return sendFile(c, path, false);
  });

  app.post("/api/generate", async (c) => {
    const body = parseBody(GenerateRequest, await jsonBody(c));
    if (body.run !== null && !store.file(body.run, LORA_FILE))
      throw new RequestError(`run ${body.run} has no LoRA yet`, 409);
    const lora = body.run === null ? null : store.dir(body.run);
    const output = tools.newOutput();
    const { result, warnings } = await tools.runWithWarnings("generate", {
      prompt: body.prompt,
      n: body.n,
      seed: body.seed,
      // A LoRA is tried with the sampling steps it was taught with.
      num_inference_steps: lora ? (trainedSteps(lora) ?? body.num_inference_steps) : body.num_inference_steps,
      // A LoRA is used with the generator it was taught on.
      generator: lora ? (trainedGenerator(lora) ?? body.generator) : body.generator,
      lora,
      lora_scale: lora ? body.lora_scale : 1,
      guidance_scale: lora ? (trainedGuidance(lora) ?? null) : null,
      // ... and at the size it was taught at.
      resolution_px: lora ? (trainedResolution(lora) ?? null) : null,
      out_dir: output.dir,
    });
    const url = (file: string) => `/api/generated/${output.name}/${file}`;
    const images = readdirSync(result.out_dir)
      .filter((f) => /^\d+\.png$/.test(f))
      .sort();
    return c.json({ images: images.map(url), grid: url("grid.png"), warnings });
  });

  app.get("/api/generated/:name/:file", (c) => {
    const { name, file } = c.req.param();
    if (!/^[\w-]+$/.test(name) || !/^[\w-]+\.png$/.test(file)) throw new RequestError("no such image", 404);
    const path = join(deps.scratchDir, name, file);
    if (!existsSync(path)) throw new RequestError("no such image", 404);
    return sendFile(c, path, false);
  });

  app.get("/api/models", async (c) => {
    const { models } = await tools.run("models", {});
    const entry = (m: (typeof models)[number]) => ({ name: m.name, present: m.present });
    return c.json({
      generators: models.filter((m) => m.role === "generator").map(entry),
      judges: models.filter((m) => m.role === "judge").map(entry),
    });
  });

  // --- live ------------------------------------------------------------------------------------------
  const snapshot = (): StudioEvent => ({ type: "runs", runs: trainer.list(), active: trainer.activeId });
  app.get("/api/events", (c) => eventStream(c, hub, snapshot));

  app.all("/api/*", (c) => c.json({ error: `no API route ${c.req.method} ${c.req.path}` }, 404));

  // --- the page --------------------------------------------------------------------------------------
  app.get("*", (c) => {
    if (!deps.webDir) return c.html(NOT_BUILT, 503);
    const wanted = c.req.path === "/" ? "index.html" : c.req.path.slice(1);
    const path = join(deps.webDir, wanted);
    const inside = !wanted.includes("..") && existsSync(path) && !wanted.endsWith("/");
    // Client-side routes (/runs/…) get the page; its script shows the right view.
    return sendFile(c, inside ? path : join(deps.webDir, "index.html"), false);
  });

  return app;
}

const NOT_BUILT =
  "<!doctype html><title>dualproc studio</title><p>The studio's page is not built. Run <code>make build</code> " +
  "(or <code>cd app &amp;&amp; npm run build</code>) and start <code>dualproc studio</code> again.</p>";

function sendFile(c: Context, path: string, download: boolean): Response {
  const headers: Record<string, string> = {
    "content-type": CONTENT_TYPES[extname(path)] ?? "application/octet-stream",
    "cache-control": "no-store",
  };
  if (download) headers["content-disposition"] = `attachment; filename="${path.split(/[\\/]/).pop()}"`;
  return c.body(readFileSync(path), 200, headers);
}

function validRunId(c: Context): string {
  const id = c.req.param("id") ?? "";
  if (!RunId.safeParse(id).success) throw new RequestError(`not a run name: ${id}`, 404);
  return id;
}

async function jsonBody(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new RequestError("the request body is not JSON");
  }
}

function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
  throw new RequestError(`${where}${issue.message}`);
}

function userError(error: Error): { message: string; status: 400 | 404 | 409 | 413 } | null {
  if (error instanceof RequestError) return { message: error.message, status: error.status };
  if (error instanceof HTTPException && error.cause instanceof RequestError)
    return { message: error.cause.message, status: error.cause.status };
  if (error instanceof RecipeError || error instanceof UploadError || error instanceof ImageReadError)
    return { message: error.message, status: 400 };
  if (error instanceof EngineError && error.code !== "internal")
    return { message: error.describe(), status: 400 };
  return null;
}
