/**
 * The runs folder read back (the studio's list and `dualproc runs`): every teach run in it, from the studio or the CLI alike, read back
 * from what the run folder holds (run.json, eval/run.json, eval/summary.json), each parsed, never cast.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import type { RunSummary } from "../protocol/studio.js";
import { loadRecipeFile, teachRecipe } from "../recipes/load.js";
import type { TeachRecipe } from "../recipes/schema.js";
import { LORA_FILE, useScale } from "./lora.js";

/** The parts of run.json the studio reads (the run folder's reducer writes it; see runs/lifecycle.ts). */
const RunJson = z.object({
  status: z.enum(["running", "succeeded", "failed", "cancelled"]),
  created_at: z.string(),
  finished_at: z.string().nullable(),
  progress: z.object({ done: z.number(), total: z.number().nullable(), unit: z.string() }).nullable(),
  metrics: z.record(z.string(), z.object({ value: z.number() })),
  error: z.object({ message: z.string() }).nullable(),
});
type RunJson = z.infer<typeof RunJson>;

const EvalSummaryJson = z.object({ verdict_text: z.string() });
const RecipeName = z.object({ name: z.string().optional() });

export class RunsStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  dir(id: string): string {
    return join(this.root, id);
  }

  /** The recipe run `id` was taught with (its resolved recipe.yaml), as the engine received it. */
  recipe(id: string): TeachRecipe {
    return teachRecipe(loadRecipeFile(join(this.dir(id), "recipe.yaml")));
  }

  /** Whether `id` names a teach run folder (it has its resolved recipe). */
  has(id: string): boolean {
    return existsSync(join(this.dir(id), "recipe.yaml"));
  }

  /** Every teach run, newest first. */
  list(): RunSummary[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && this.has(entry.name))
      .map((entry) => this.summary(entry.name))
      .sort((a, b) => b.created_at.localeCompare(a.created_at));
  }

  /** What the folder says about run `id` now. The trainer overrides status and stage of live runs. */
  summary(id: string): RunSummary {
    const dir = this.dir(id);
    const teach = interrupted(dir, readJson(join(dir, "run.json"), RunJson));
    const evaluation = interrupted(join(dir, "eval"), readJson(join(dir, "eval", "run.json"), RunJson));
    const verdict = readJson(join(dir, "eval", "summary.json"), EvalSummaryJson)?.verdict_text ?? null;
    const failed = [teach, evaluation].find((r) => r && r.status !== "running" && r.status !== "succeeded");
    const live = evaluation ?? teach;
    return {
      id,
      name: recipeName(dir) ?? id,
      status: failed?.status ?? live?.status ?? "failed",
      stage: live?.status === "running" ? (evaluation ? "eval" : "teach") : "done",
      created_at: teach?.created_at ?? statSync(dir).mtime.toISOString(),
      finished_at: live?.finished_at ?? null,
      progress: live?.progress ?? null,
      teach_progress: teach?.progress ?? null,
      metrics: metricValues(teach),
      error: failed?.error?.message ?? (teach ? null : missingRunJson(dir)),
      files: {
        lora: existsSync(join(dir, LORA_FILE)) ? LORA_FILE : null,
        report_md: existsSync(join(dir, "report.md")) ? "report.md" : null,
        eval_report_html: existsSync(join(dir, "eval", "report.html")) ? "eval/report.html" : null,
        latest_grid: latestGrid(dir),
      },
      resumable:
        teach !== null &&
        (teach.status === "cancelled" || teach.status === "failed") &&
        existsSync(join(dir, "checkpoints")) &&
        readdirSync(join(dir, "checkpoints")).length > 0,
      use_scale: useScale(dir) ?? null,
      verdict,
    };
  }

  /** The absolute path of `file` inside run `id`, or null when it is not a file there ('..', absolute
   * paths and links that lead out of the run folder included). */
  file(id: string, file: string): string | null {
    const dir = this.dir(id);
    const path = resolve(dir, file);
    if (!path.startsWith(dir + sep) || !existsSync(path)) return null;
    // A link inside the run folder may point anywhere: judge the real path.
    const real = realpathSync(path);
    if (!real.startsWith(realpathSync(dir) + sep)) return null;
    return statSync(real).isFile() ? real : null;
  }

  /** `path` (absolute, inside run `id`) as the run-relative path the page asks for. */
  relative(id: string, path: string): string {
    return relative(this.dir(id), path).split(sep).join("/");
  }
}

/** Why a run folder has no readable run.json. */
function missingRunJson(dir: string): string {
  return existsSync(join(dir, "run.json"))
    ? "run.json cannot be read (cut short while being written?); the run's events are in events.jsonl"
    : "no run.json: the run never started";
}

/** A JSON file of a run folder parsed by `schema`; null when missing, unreadable or not of that shape. */
export function readJson<T>(path: string, schema: z.ZodType<T>): T | null {
  if (!existsSync(path)) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(readFileSync(path, "utf8")));
    return parsed.success ? parsed.data : null;
  } catch {
    return null; // half-written by a crash: the run shows as failed rather than breaking the list
  }
}

/** A run whose engine has been silent this long is taken to have died with the process that ran it. */
export const SILENT_RUN_MS = 10 * 60_000;

/**
 * A run.json that still says "running" though its events stopped long ago: the process that ran it (a CLI
 * or an earlier studio) was killed. Shown as failed, so the page offers Resume instead of a run that never
 * ends. (The trainer's own live runs are never judged by this: it overrides their state.)
 */
function interrupted(dir: string, run: RunJson | null): RunJson | null {
  if (run?.status !== "running") return run;
  const events = join(dir, "events.jsonl");
  const last = existsSync(events) ? statSync(events).mtimeMs : Date.parse(run.created_at);
  const silentMs = Date.now() - last;
  if (silentMs < SILENT_RUN_MS) return run;
  const minutes = Math.round(silentMs / 60_000);
  return {
    ...run,
    status: "failed",
    error: {
      message: `interrupted: no word from the engine for ${minutes} min (the process running it stopped)`,
    },
  };
}

function recipeName(dir: string): string | null {
  try {
    const parsed = RecipeName.safeParse(parse(readFileSync(join(dir, "recipe.yaml"), "utf8")));
    return parsed.success ? (parsed.data.name ?? null) : null;
  } catch {
    return null;
  }
}

function metricValues(run: RunJson | null): Record<string, number> {
  if (!run) return {};
  return Object.fromEntries(Object.entries(run.metrics).map(([name, m]) => [name, m.value]));
}

/** The grid of the highest step the engine has written so far (grids/step-N.png). */
function latestGrid(dir: string): string | null {
  const grids = join(dir, "grids");
  if (!existsSync(grids)) return null;
  const steps = readdirSync(grids)
    .map((name) => /^step-(\d+)\.png$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
  if (steps.length === 0) return null;
  return `grids/step-${Math.max(...steps)}.png`;
}
