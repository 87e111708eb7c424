/**
 * report.md and score-curve.svg for a teach run, written from what the run folder holds: the resolved
 * recipe, metrics.jsonl (one JSON object of numbers per step) and the grids the engine wrote.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TeachRecipe } from "../recipes/schema.js";
import { reviewMarkdown } from "../runs/review.js";
import { lineChartSvg, type Series } from "./score-chart.js";

type MetricRow = Record<string, unknown>;

export function readMetrics(runDir: string): MetricRow[] {
  const path = join(runDir, "metrics.jsonl");
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .flatMap((line): MetricRow[] => {
      try {
        const value: unknown = JSON.parse(line);
        return value !== null && typeof value === "object" ? [flattenScores(value as MetricRow)] : [];
      } catch {
        return []; // a line cut short by a crash: the rows before it still count
      }
    });
}

/** The engine logs per-question scores as a list; the report names them `score/<i>`. */
function flattenScores(row: MetricRow): MetricRow {
  if (!Array.isArray(row.scores)) return row;
  const flat: MetricRow = { ...row };
  (row.scores as unknown[]).forEach((score, i) => (flat[`score/${i}`] = score));
  return flat;
}

/** Curves of the loss and of every per-question score (`score/<i>` or `score_<i>` columns). */
export function scoreSeries(rows: MetricRow[], recipe: TeachRecipe): Series[] {
  const columns = new Set(rows.flatMap((row) => Object.keys(row)));
  const wanted = [...columns].filter((c) => c === "loss" || /^score[/_]\d+$/.test(c));
  return wanted.map((column) => ({
    name: labelFor(column, recipe),
    points: rows.flatMap((row, i): [number, number][] => {
      const value = row[column];
      const step = typeof row.step === "number" ? row.step : i;
      return typeof value === "number" && Number.isFinite(value) ? [[step, value]] : [];
    }),
  }));
}

function labelFor(column: string, recipe: TeachRecipe): string {
  const index = /^score[/_](\d+)$/.exec(column)?.[1];
  const question = index === undefined ? undefined : recipe.questions[Number(index)]?.question;
  return question ? `score ${index}: ${question.slice(0, 20)}${question.length > 20 ? "…" : ""}` : column;
}

export function writeTeachReport(runDir: string, recipe: TeachRecipe): string {
  const rows = readMetrics(runDir);
  writeFileSync(join(runDir, "score-curve.svg"), lineChartSvg(scoreSeries(rows, recipe), "step", "value"));
  const path = join(runDir, "report.md");
  writeFileSync(path, reportMarkdown(runDir, recipe, rows));
  return path;
}

function reportMarkdown(runDir: string, recipe: TeachRecipe, rows: MetricRow[]): string {
  const lines = [
    `# ${recipe.name ?? "teach run"}`,
    "",
    recipe.description ?? "",
    "",
    `Generator \`${recipe.generator}\`, judge \`${recipe.judge}\`${coJudgesText(recipe)}, training seed ${recipe.training.seed}; ` +
      `${recipe.prompts.length} training prompt(s), ${recipe.eval.prompts.length} evaluation prompt(s), ` +
      `${rows.length} logged step(s).`,
    "",
    "| question | wanted answer | weight | first score | last score |",
    "|---|---|---|---|---|",
    ...recipe.questions.map((q, i) => {
      // A question asked only of some prompts has no score at a step whose images it was not asked of.
      const scored = rows.flatMap((row) => {
        const value = row[`score/${i}`] ?? row[`score_${i}`];
        return typeof value === "number" ? [value.toFixed(3)] : [];
      });
      return `| ${q.question} | ${q.answer} | ${q.weight} | ${scored[0] ?? "-"} | ${scored.at(-1) ?? "-"} |`;
    }),
    "",
    ...(coJudgesText(recipe) === ""
      ? [
          "The scores are the training judge's probability of the wanted answer: the least trustworthy number of a",
          "run, since the generator was optimised against it.",
        ]
      : [
          "The scores are the teaching judges' probability of the wanted answer, the geometric mean over the judge",
          "and its co-judges (what the loop optimised): the least trustworthy number of a run.",
        ]),
    "",
    ...keptText(recipe, rows),
    "![loss and scores per step](score-curve.svg)",
    "",
    ...gridSection(runDir),
    ...reviewMarkdown(runDir, recipe),
  ];
  return lines.join("\n") + "\n";
}

function gridSection(runDir: string): string[] {
  const dir = join(runDir, "grids");
  if (!existsSync(dir)) return [];
  const step = (file: string) => Number(/(\d+)/.exec(file)?.[1] ?? 0);
  const grids = readdirSync(dir)
    .filter((f) => f.endsWith(".png"))
    .sort((a, b) => step(a) - step(b)); // step-50 before step-100
  if (grids.length === 0) return [];
  const shown = [...new Set([grids[0]!, grids[grids.length - 1]!])];
  return [
    "## Evaluation seeds, adapter off and on",
    "",
    ...shown.map((file) => `![${file}](grids/${file})`),
    "",
  ];
}

/** The keep questions, the judge they were kept by, and the keep term's first and last logged value. */
function keptText(recipe: TeachRecipe, rows: MetricRow[]): string[] {
  const keep = recipe.keep ?? [];
  if (keep.length === 0) return [];
  const losses = rows.flatMap((row) => (typeof row.keep_loss === "number" ? [row.keep_loss.toFixed(4)] : []));
  return [
    `Answers kept (\`keep\`, asked of \`${recipe.keep_judge ?? recipe.judge}\`, weight ` +
      `${recipe.training.keep_weight}): ${keep.map((k) => `"${k.question}"`).join(", ")}; keep term (the judge's ` +
      `answers moved from the base images', KL) ${losses[0] ?? "-"} at the first step, ${losses.at(-1) ?? "-"} ` +
      "at the last; whether they stayed is the evaluation's Kept answers table.",
    "",
  ];
}

/** ", co-judges `a`, `b`" where judges teach beside the recipe's judge (`co_judges`), else "". */
function coJudgesText(recipe: TeachRecipe): string {
  const names = recipe.co_judges ?? [];
  return names.length === 0 ? "" : `, co-judges ${names.map((n) => `\`${n}\``).join(", ")}`;
}
