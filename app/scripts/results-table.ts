/**
 * docs/results.md's table from finished teach runs: `tsx scripts/results-table.ts RUN...` prints, per run,
 * the base and taught success of each measured control (else the held-out judge's score), the worst drift,
 * how often the training and held-out judges are right on renders whose answer is known (eval's "Can the
 * judges tell?"),
 * the verdict and the teach wall time, and the taught success over training seeds where the same recipe was
 * also taught at other seeds into sibling folders RUN-seed-N (`make results SEEDS="1 2 3"`).
 * `make results` teaches every control recipe and calls this.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { taughtSuccess } from "../src/eval/seed-comparison.js";
import type { JudgeCheck } from "../src/eval/judge-check.js";
import type { EvalSummary } from "../src/eval/summary.js";
import { percent } from "../src/report/eval-report.js";

interface TeachRun {
  result?: { summary?: { time_s?: number; steps?: number } };
  params?: { recipe?: { training?: { seed?: number } } };
}

function readTeachRun(run: string): TeachRun {
  return JSON.parse(readFileSync(join(run, "run.json"), "utf8")) as TeachRun;
}

function readSummary(run: string): EvalSummary {
  return JSON.parse(readFileSync(join(run, "eval", "summary.json"), "utf8")) as EvalSummary;
}

/** The run, then its siblings taught at other training seeds (RUN-seed-N, evaluated) by seed. */
function seedRuns(run: string): { seed: string; run: string }[] {
  const prefix = `${basename(run)}-seed-`;
  const siblings = readdirSync(dirname(run))
    .filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)))
    .map((name) => ({ seed: name.slice(prefix.length), run: join(dirname(run), name) }))
    .filter((s) => existsSync(join(s.run, "eval", "summary.json")))
    .sort((a, b) => Number(a.seed) - Number(b.seed));
  const own = readTeachRun(run).params?.recipe?.training?.seed;
  return [{ seed: own === undefined ? "the recipe's" : String(own), run }, ...siblings];
}

/** "M% (low-high; seeds ...)", or "one seed" when the recipe was taught at its own seed only. */
export function overSeeds(run: string): string {
  const runs = seedRuns(run);
  if (runs.length === 1) return "one seed";
  const summaries = runs.map((s) => readSummary(s.run));
  const values = summaries.map((s) => taughtSuccess(s)?.value ?? null).filter((v): v is number => v !== null);
  if (values.length === 0) return "n/a";
  const pct = (v: number) => `${(100 * v).toFixed(1)}`;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const seeds = runs.map((s) => s.seed).join(", ");
  return `${pct(mean)}% (${pct(Math.min(...values))}-${pct(Math.max(...values))}; seeds ${seeds}; ${verdictCounts(summaries)})`;
}

/** How often each verdict came, most frequent first: "took 3, probable_hacking 1". */
function verdictCounts(summaries: EvalSummary[]): string {
  const counts = new Map<string, number>();
  for (const s of summaries) counts.set(s.verdict, (counts.get(s.verdict) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([verdict, n]) => `${verdict} ${n}`)
    .join(", ");
}

/**
 * How often each judge was right on renders whose answer is known (the first question checked): "training /
 * held-out", and the co-judges after a semicolon where the recipe had any.
 */
export function judgesRight(summary: Pick<EvalSummary, "judge_checks">): string {
  const right = (c: JudgeCheck | undefined) => (c?.right ? `${(100 * c.right.mean).toFixed(1)}%` : "n/a");
  const checks = summary.judge_checks ?? [];
  const first = (role: string) => checks.find((c) => c.role === role);
  const coJudges = checks.filter((c) => c.role === "co-judge" && c.question === checks[0]!.question);
  const co = coJudges.map((c) => `${c.judge} ${right(c)}`).join(", ");
  return `${right(first("training"))} / ${right(first("held-out"))}${co ? `; co-judge ${co}` : ""}`;
}

function row(run: string): string {
  const summary = readSummary(run);
  const teach = readTeachRun(run);
  const heldout = summary.judges.find((j) => j.role === "held-out");
  const measured = summary.controls[0];
  const [what, base, taught] = measured
    ? [measured.label, percent(measured.base), percent(measured.taught)]
    : [
        `held-out judge: ${heldout?.judge ?? "none"}`,
        percent(heldout?.base ?? null),
        percent(heldout?.taught ?? null),
      ];
  const drift = summary.drift.filter((d) => d.rate !== null).sort((a, b) => b.rate!.mean - a.rate!.mean)[0];
  const floor = drift?.floor ? ` (a perfect control: ${(100 * drift.floor.mean).toFixed(1)}%)` : "";
  const worst = drift ? `${drift.attribute} ${percent(drift.rate)}${floor}` : "n/a";
  const sees = judgesRight(summary);
  const time = teach.result?.summary?.time_s;
  const steps = teach.result?.summary?.steps;
  return `| ${basename(run)} | ${what} | ${base} | ${taught} | ${overSeeds(run)} | ${worst} | ${sees} | ${summary.verdict} | ${steps ?? "?"} steps, ${time === undefined ? "?" : `${Math.round(time)} s`} |`;
}

function main(runs: string[]): void {
  if (runs.length === 0) {
    process.stderr.write("usage: tsx scripts/results-table.ts RUN_FOLDER...\n");
    process.exit(2);
  }
  console.log(
    "| recipe | success measured by | base | taught | taught over training seeds | worst drift | judges right on renders (training / held-out; co-judges) | verdict | teach time |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const run of runs) console.log(row(run));
}

// Run as a script (make results); imported by its test.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
