/**
 * docs/results.md's table from finished teach runs: `tsx scripts/results-table.ts RUN...` prints, per run,
 * the base and taught success of each measured control (else the held-out judge's score), the worst drift,
 * how often the training and held-out judges are right on renders whose answer is known (eval's "Can the
 * judges tell?"),
 * the verdict and the teach wall time. `make results` teaches every control recipe and calls this.
 */
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { EvalSummary } from "../src/eval/summary.js";
import { percent } from "../src/report/eval-report.js";

interface TeachRun {
  result?: { summary?: { time_s?: number; steps?: number } };
}

function row(run: string): string {
  const summary = JSON.parse(readFileSync(join(run, "eval", "summary.json"), "utf8")) as EvalSummary;
  const teach = JSON.parse(readFileSync(join(run, "run.json"), "utf8")) as TeachRun;
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
  const right = (role: string) => {
    const check = (summary.judge_checks ?? []).find((c) => c.role === role);
    return check?.right ? `${(100 * check.right.mean).toFixed(1)}%` : "n/a";
  };
  const sees = `${right("training")} / ${right("held-out")}`;
  const time = teach.result?.summary?.time_s;
  const steps = teach.result?.summary?.steps;
  return `| ${basename(run)} | ${what} | ${base} | ${taught} | ${worst} | ${sees} | ${summary.verdict} | ${steps ?? "?"} steps, ${time === undefined ? "?" : `${Math.round(time)} s`} |`;
}

const runs = process.argv.slice(2);
if (runs.length === 0) {
  process.stderr.write("usage: tsx scripts/results-table.ts RUN_FOLDER...\n");
  process.exit(2);
}
console.log(
  "| recipe | success measured by | base | taught | worst drift | judges right on renders (training / held-out) | verdict | teach time |",
);
console.log("|---|---|---|---|---|---|---|---|");
for (const run of runs) console.log(row(run));
