import { existsSync, statSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import type { Command } from "commander";
import type { RunSummary } from "../../protocol/studio.js";
import { RunsStore } from "../../runs/runs-store.js";
import type { CliContext } from "../context.js";
import { UsageError } from "../errors.js";

export function runsCommand(context: CliContext): Command {
  return context
    .command("runs", "list the teach runs in a runs folder, newest first: state, steps, verdict, report")
    .option("--runs <dir>", "the runs folder (teach and the studio write new runs here)", "runs")
    .option("--json", "print the runs as a JSON array (the studio's run summaries)")
    .addHelpText(
      "after",
      "\nA run is a folder with a recipe.yaml (from `dualproc teach` or the studio). A run whose process was\n" +
        "killed shows as failed and, when it left a checkpoint, resumable with `dualproc teach --resume DIR`.",
    )
    .action((options: { runs: string; json?: boolean }, command: Command) => {
      const console = context.consoleFor(command);
      if (existsSync(options.runs) && !statSync(options.runs).isDirectory()) {
        throw new UsageError(`--runs: ${options.runs} is a file, not a runs folder`);
      }
      const store = new RunsStore(options.runs);
      const runs = store.list();
      if (options.json) {
        console.result(JSON.stringify(runs, null, 2));
        return;
      }
      if (runs.length === 0) {
        console.result(`no teach runs in ${options.runs} (start one with: dualproc teach RECIPE.yaml)`);
        return;
      }
      console.result(runs.map((run) => formatRun(run, shortPath(store.dir(run.id)))).join("\n\n"));
    });
}

/** A few lines per run: where it is, what it taught, how far it got, what the evaluation said. */
export function formatRun(run: RunSummary, dir: string): string {
  const lines = [`${dir}  ${run.name}  ${state(run)}  ${steps(run)}  started ${shortTime(run.created_at)}`];
  if (run.error) lines.push(`  error: ${run.error}`);
  if (run.verdict) lines.push(`  ${run.verdict}`);
  const report = run.files.eval_report_html ?? run.files.report_md;
  if (report) lines.push(`  report: ${join(dir, report)}`);
  if (run.resumable) lines.push(`  resume: dualproc teach --resume ${dir}`);
  return lines.join("\n");
}

function state(run: RunSummary): string {
  if (run.status === "running") return run.stage === "eval" ? "evaluating" : "teaching";
  return run.status;
}

function steps(run: RunSummary): string {
  const p = run.teach_progress;
  if (!p) return "no steps yet";
  return p.total === null ? `${p.done} ${p.unit}` : `${p.done}/${p.total} ${p.unit}`;
}

/** The folder relative to the working directory when it lies inside it, else absolute. */
function shortPath(dir: string): string {
  const rel = relative(process.cwd(), dir);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : dir;
}

/** "2026-11-30 18:02" in UTC: the same on every machine that reads the folder. */
function shortTime(iso: string): string {
  return iso.replace("T", " ").slice(0, 16);
}
