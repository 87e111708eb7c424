/**
 * The evaluation report of a teach run, as Markdown (eval/report.md) and as one self-contained HTML file
 * (eval/report.html: images inlined, opens from disk): the verdict in plain words first, then the
 * before/after grids, the measured controls, every judge's scores, drift and diversity.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { Interval } from "../eval/bootstrap.js";
import { PALETTE_MIN_SHARE } from "../eval/controls.js";
import type { Change, ControlSummary, EvalSummary, KeptSummary } from "../eval/summary.js";
import type { TeachRecipe } from "../recipes/schema.js";
import { lineChartSvg } from "./score-chart.js";
import { readMetrics, scoreSeries } from "./teach-report.js";

export interface EvalReportInputs {
  runDir: string;
  evalDir: string;
  recipe: TeachRecipe;
  summary: EvalSummary;
  grids: string[];
  /** What the measurers read of a depth or layout control, drawn (report/measured-sheet.ts); none if absent. */
  measured?: string;
  /** The training step whose checkpoint's LoRA was evaluated; absent: the run's final LoRA. */
  checkpoint?: number;
}

/** "horizon-30", or "horizon-30, at step 100" for a checkpoint's LoRA. */
function evaluated(inputs: EvalReportInputs): string {
  const name = inputs.recipe.name ?? "teach run";
  return inputs.checkpoint === undefined ? name : `${name}, at step ${inputs.checkpoint}`;
}

const MEASURED_NOTE =
  "What the measurers read, image by image: per prompt a row without the LoRA and a row with it, a column per " +
  "seed; the measured horizon in yellow, points A (red) and B (blue) or the layout's boxes (white); framed " +
  "green where the control passes, grey where it fails, unframed where nothing could be measured.";

const VERDICT_TITLE: Record<EvalSummary["verdict"], string> = {
  took: "The control took",
  took_in_part: "The control took only in part",
  probable_hacking: "Probable judge hacking",
  inconclusive: "Too few pairs to tell",
  no_gain: "No gain",
  unverified: "Not verified",
};

export function percent(i: Interval | null): string {
  if (!i) return "n/a";
  return `${(100 * i.mean).toFixed(1)}% [${(100 * i.low).toFixed(1)}, ${(100 * i.high).toFixed(1)}]`;
}

function points(i: Interval | null): string {
  if (!i) return "n/a";
  const f = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}`;
  return `${f(i.mean)} [${f(i.low)}, ${f(i.high)}]`;
}

/** "2 / 22", and "(not line art: 1 / 22)" where the measurers took some for the other kind of picture. */
function unreadCell(c: ControlSummary): string {
  const counts = `${c.unmeasured.base} / ${c.unmeasured.taught}`;
  const other = c.other_kind;
  if (!other || other.base + other.taught === 0) return counts;
  const kind = other.reads === "lineart" ? "line art" : "landscapes";
  return `${counts} (not ${kind}: ${other.base} / ${other.taught})`;
}

interface Table {
  head: string[];
  rows: string[][];
}

/** Who taught the LoRA, where more than one judge did (`co_judges`): their scores are not a check of it. */
function coTeachingNote(s: EvalSummary, recipe: TeachRecipe): string {
  const coJudges = recipe.co_judges ?? [];
  if (coJudges.length === 0) return "";
  const training = s.judges.find((j) => j.role === "training")?.judge ?? recipe.judge;
  return (
    ` The LoRA was taught by ${training} together with ${coJudges.join(", ")} (co_judges: their answers averaged):` +
    " the co-judges' rows show what each of them saw, and of these only the held-out judge checks it independently."
  );
}

function tables(s: EvalSummary, recipe: TeachRecipe): { title: string; note: string; table: Table }[] {
  const changeRow = (c: Change) => [percent(c.base), percent(c.taught), points(c.difference)];
  const scaleHead = ["without LoRA", `with LoRA (scale ${s.taught_scale})`, "change (points)"];
  return [
    {
      title: "Controls, measured",
      note:
        s.controls.length === 0
          ? "No question states a measurable target (a horizon height, a palette or a stroke width)."
          : "Success rate by the measurers (no judge involved); an image the measurer cannot read counts as a failure" +
            (s.controls.some((c) => c.other_kind && c.other_kind.base + c.other_kind.taught > 0)
              ? " (in brackets: of those, the images the measurers, which guess each image's kind from its pixels, did not take for the kind they read the control on)."
              : ".") +
            (s.controls.some((c) => c.checks.length > 0)
              ? " A control made of several rules has each rule's own success rate below it."
              : "") +
            (s.controls.some((c) => c.details.length > 0)
              ? ` A palette's colours follow one by one: the share of images in which each covers ${100 * PALETTE_MIN_SHARE}% (which colours the LoRA uses, and which it leaves out).`
              : ""),
      table: {
        head: ["control", ...scaleHead, "unreadable (without / with)"],
        rows: s.controls.flatMap((c) => [
          [c.label, ...changeRow(c), unreadCell(c)],
          ...c.checks.map((k) => [`  ${k.label}`, ...changeRow(k), ""]),
          ...c.details.map((k) => [`  ${k.label}`, ...changeRow(k), ""]),
        ]),
      },
    },
    {
      title: "Judges",
      note:
        "Probability of the wanted answer, weighted over the recipe's questions; per question below." +
        coTeachingNote(s, recipe) +
        (s.judges.some((j) => j.questions.some((q) => q.asked_as !== undefined))
          ? ' A Scenes judge is asked a Scenes question in its own words ("asked as"): the held-out judge never saw the training judge\'s phrasings.'
          : "") +
        (s.judges.some((j) => j.questions.some((q) => q.base === null))
          ? " n/a: a question asked only of some prompts (`when` or a {slot}), none of them an evaluation prompt."
          : ""),
      table: {
        head: ["judge", "role", ...scaleHead],
        rows: s.judges.flatMap((j) => [
          [j.judge, j.role, ...changeRow(j)],
          ...j.questions.map((q) => [`  ${withAskedAs(q)}`, "", ...changeRow(q)]),
        ]),
      },
    },
    ...(s.judge_checks.length === 0 ? [] : [judgeCheckTable(s)]),
    {
      title: "Drift",
      note:
        "Share of image pairs (same prompt and seed) where an attribute the recipe does not control changed." +
        (s.drift.some((d) => d.floor)
          ? " A perfect control: the same check on rendered scenes and their twins with only the control changed (it moves objects, and the colours' shares, too)."
          : ""),
      table: s.drift.some((d) => d.floor)
        ? {
            head: ["attribute", "counts as a change", "pairs changed", "a perfect control"],
            rows: s.drift.map((d) => [d.attribute, d.label, percent(d.rate), percent(d.floor)]),
          }
        : {
            head: ["attribute", "counts as a change", "pairs changed"],
            rows: s.drift.map((d) => [d.attribute, d.label, percent(d.rate)]),
          },
    },
    ...(s.kept && s.kept.length > 0 ? [keptTable(s.kept, recipe, scaleHead)] : []),
    {
      title: "Diversity across seeds",
      note: "Mean absolute pixel difference between images of one prompt (0-1); a collapse shows as a ratio well below 1.",
      table: {
        head: ["without LoRA", "with LoRA", "ratio"],
        rows: [
          [
            interval(s.diversity.base),
            interval(s.diversity.taught),
            s.diversity.ratio === null ? "n/a" : s.diversity.ratio.toFixed(2),
          ],
        ],
      },
    },
  ];
}

/** The recipe's keep questions as each judge answered them about the pairs: did the answers stay? */
function keptTable(
  kept: readonly KeptSummary[],
  recipe: TeachRecipe,
  scaleHead: string[],
): { title: string; note: string; table: Table } {
  const keeper = recipe.keep_judge ?? recipe.judge;
  const taught = recipe.training.keep_weight > 0;
  return {
    title: "Kept answers",
    note:
      "The recipe's keep questions, asked about each image pair: the probability of Yes (between Yes and No) " +
      "without and with the LoRA, and the share of pairs whose answer changed (crossed 50%). " +
      (taught
        ? `They were kept while teaching by ${keeper}'s answers, so its own row, where it is scored here, is no ` +
          "check; the held-out judge's is."
        : "They did not teach (training.keep_weight 0): the held-out judge's rows are a drift check in the " +
          "recipe's own words."),
    table: {
      head: ["keep question", "judge", "role", ...scaleHead, "answer changed"],
      rows: kept.map((k) => [
        withAskedAs(k),
        k.judge,
        k.role,
        percent(k.base),
        percent(k.taught),
        points(k.difference),
        percent(k.changed),
      ]),
    },
  };
}

/** Whether each judge can answer the control's question at all, on renders whose answer is known. */
function judgeCheckTable(s: EvalSummary): { title: string; note: string; table: Table } {
  return {
    title: "Can the judges tell?",
    note:
      "Each judge asked the recipe's question about rendered scenes whose answer is known: for a measured " +
      "control, the drift floor's scenes with the control set (they pass) and without it (most fail); for " +
      "points, a layout or a plain question about the sky, the time of day or the horizon band, Scenes " +
      "questions in the recipe's words, each scene with its own points or boxes drawn (pass: the wanted answer " +
      "is the right one); a Scenes judge is asked in its own words. Right: the mean of its share right on the passing and " +
      "on the failing renders (wanted answer above or below 0.5); 50% is chance. A training judge near 50% " +
      "cannot teach this control, whatever its score on the LoRA's images; a held-out judge near 50% cannot " +
      "check it.",
    table: {
      head: [
        "judge",
        "role",
        "question",
        "renders (pass / fail)",
        "P(wanted answer), passing",
        "failing",
        "right",
      ],
      rows: s.judge_checks.map((c) => [
        c.judge,
        c.role,
        withAskedAs(c),
        `${c.renders.pass} / ${c.renders.fail}`,
        percent(c.on_pass),
        percent(c.on_fail),
        percent(c.right),
      ]),
    },
  };
}

/** A question, and how the judge was asked it where that was in other words (a Scenes judge's own). */
function withAskedAs(q: { question: string; asked_as?: string }): string {
  return q.asked_as === undefined ? q.question : `${q.question} (asked as: ${q.asked_as})`;
}

function interval(i: Interval | null): string {
  return i ? `${i.mean.toFixed(3)} [${i.low.toFixed(3)}, ${i.high.toFixed(3)}]` : "n/a";
}

// ------------------------------------------------------------------------------------------ markdown

function markdownTable(t: Table): string[] {
  const cell = (c: string) => c.replace(/\|/g, "\\|");
  return [
    `| ${t.head.map(cell).join(" | ")} |`,
    `|${t.head.map(() => "---").join("|")}|`,
    ...t.rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ];
}

export function evalMarkdown(inputs: EvalReportInputs): string {
  const { summary: s, recipe, evalDir } = inputs;
  const lines = [
    `# Evaluation: ${evaluated(inputs)}`,
    "",
    `**${VERDICT_TITLE[s.verdict]}.** ${s.verdict_text}`,
    "",
    `${s.pairs} image pairs: ${s.prompts.length} held-out prompts x ${s.seeds.length} seeds, each drawn ` +
      `without the LoRA and with it at scale ${s.taught_scale} from the same noise. ` +
      "Intervals are 95% bootstrap intervals; changes are paired.",
    "",
  ];
  for (const { title, note, table } of tables(s, recipe))
    lines.push(`## ${title}`, "", note, "", ...markdownTable(table), "");
  lines.push(
    "## Before and after",
    "",
    "Each grid: top row without the LoRA, bottom row with it; a column per seed.",
    "",
  );
  inputs.grids.forEach((g, i) =>
    lines.push(`${s.prompts[i] ?? `prompt ${i}`}:`, "", `![](${relative(evalDir, g)})`, ""),
  );
  if (inputs.measured)
    lines.push(
      "## What the measurers read",
      "",
      MEASURED_NOTE,
      "",
      `![](${relative(evalDir, inputs.measured)})`,
      "",
    );
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------- html

const escapeHtml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function htmlTable(t: Table): string {
  const head = t.head.map((h) => `<th>${escapeHtml(h)}</th>`).join("");
  // a row under another (a question under its judge, a rule under its control) starts with two spaces, which
  // HTML would collapse: indent it by style instead
  const cell = (c: string) => {
    if (!c.startsWith("  ")) return `<td>${escapeHtml(c)}</td>`;
    const text = c.trimStart();
    // a row about one colour (a palette's colours one by one) shows it, since people compare colours by eye
    const hex = /^#[0-9a-f]{6}\b/i.exec(text)?.[0];
    const swatch = hex ? `<span class="swatch" style="background:${hex}"></span>` : "";
    return `<td class="sub">${swatch}${escapeHtml(text)}</td>`;
  };
  const rows = t.rows.map((r) => `<tr>${r.map(cell).join("")}</tr>`).join("");
  return `<table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`;
}

function inlinePng(path: string): string {
  return existsSync(path) ? `data:image/png;base64,${readFileSync(path).toString("base64")}` : "";
}

// A grid shows each image at its own size where the page allows (16 seeds of 64 px fill the width); a grid of
// a few seeds is enlarged to half the page, pixelated, never blurred.
const STYLE = `body{font:15px/1.45 system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f3f3f3}td.sub{padding-left:2em}.swatch{display:inline-block;width:1em;height:1em;margin-right:.4em;vertical-align:-.15em;border:1px solid #888}.verdict{padding:1em;border-radius:6px;margin:1em 0}.took{background:#e3f6e3}
.probable_hacking{background:#fde2e2}.no_gain,.unverified,.inconclusive,.took_in_part{background:#f3f0dd}
figure{margin:0 0 1.2em}img{image-rendering:pixelated;max-width:100%;min-width:min(100%,480px)}figcaption{font-size:13px}`;

export function evalHtml(inputs: EvalReportInputs): string {
  const { summary: s, recipe, runDir } = inputs;
  const parts = [
    `<!doctype html><html><head><meta charset="utf-8"><title>Evaluation: ${escapeHtml(evaluated(inputs))}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>Evaluation: ${escapeHtml(evaluated(inputs))}</h1>`,
    `<div class="verdict ${s.verdict}"><strong>${VERDICT_TITLE[s.verdict]}.</strong> ${escapeHtml(s.verdict_text)}</div>`,
    `<p>${s.pairs} image pairs: ${s.prompts.length} held-out prompts &times; ${s.seeds.length} seeds, each drawn without ` +
      `the LoRA and with it at scale ${s.taught_scale} from the same noise. Intervals are 95% bootstrap intervals.</p>`,
    "<h2>Before and after</h2><p>Top row without the LoRA, bottom row with it; a column per seed.</p>",
    ...inputs.grids.map(
      (g, i) =>
        `<figure><img alt="grid ${i}" src="${inlinePng(g)}"><figcaption>${escapeHtml(s.prompts[i] ?? "")}</figcaption></figure>`,
    ),
  ];
  if (inputs.measured)
    parts.push(
      `<h2>What the measurers read</h2><p>${escapeHtml(MEASURED_NOTE)}</p>`,
      `<figure><img alt="what the measurers read" src="${inlinePng(inputs.measured)}"></figure>`,
    );
  for (const { title, note, table } of tables(s, recipe))
    parts.push(`<h2>${escapeHtml(title)}</h2><p>${escapeHtml(note)}</p>`, htmlTable(table));
  const metrics = readMetrics(runDir);
  if (metrics.length > 0) {
    parts.push(
      "<h2>Training</h2><p>The training judge's score during training (what the loop optimised).</p>",
      lineChartSvg(scoreSeries(metrics, recipe), "step", "score"),
    );
  }
  parts.push("</body></html>");
  return parts.join("\n");
}

/** Writes report.md, report.html and summary.json into the evaluation folder; returns the HTML's path. */
export function writeEvalReport(inputs: EvalReportInputs): string {
  writeFileSync(join(inputs.evalDir, "summary.json"), JSON.stringify(inputs.summary, null, 1) + "\n");
  writeFileSync(join(inputs.evalDir, "report.md"), evalMarkdown(inputs));
  const html = join(inputs.evalDir, "report.html");
  writeFileSync(html, evalHtml(inputs));
  return html;
}
