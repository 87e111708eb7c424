import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import type { EvalSummary } from "../../src/eval/summary.js";
import { parseRecipe, teachRecipe } from "../../src/recipes/load.js";
import { writeEvalReport } from "../../src/report/eval-report.js";

const recipe = teachRecipe(
  parseRecipe(
    "name: horizon-30\nprompts: [a landscape]\nquestions:\n  - question: Is the <red> line on it?\n",
  ),
);
const at = (mean: number) => ({ mean, low: mean - 0.05, high: mean + 0.05, n: 8 });
const summary: EvalSummary = {
  taught_scale: 2,
  prompts: ["a lake & a tree"],
  seeds: [1, 2],
  pairs: 2,
  judges: [
    {
      judge: "scenes-judge",
      role: "training",
      base: at(0.3),
      taught: at(0.8),
      difference: at(0.5),
      questions: [
        { question: "Is the <red> line on it?", base: at(0.3), taught: at(0.8), difference: at(0.5) },
      ],
    },
  ],
  controls: [
    {
      attribute: "horizon",
      wanted: true,
      label: "horizon at 30% of the height (+-0.03)",
      question: "Is the <red> line on it?",
      pairs: 16,
      unmeasured: { base: 1, taught: 0 },
      other_kind: { reads: "landscape", base: 0, taught: 0 },
      checks: [],
      details: [],
      base: at(0.1),
      taught: at(0.1),
      difference: at(0),
    },
  ],
  drift: [{ attribute: "sky", label: "sky kind changed", rate: at(0.25), floor: null }],
  diversity: { base: at(0.1), taught: at(0.09), ratio: 0.9 },
  judge_checks: [
    {
      judge: "scenes-judge",
      role: "training",
      question: "Is the <red> line on it?",
      renders: { pass: 47, fail: 48 },
      on_pass: at(0.46),
      on_fail: at(0.44),
      right: at(0.52),
    },
  ],
  verdict: "probable_hacking",
  verdict_text: "The training judge's score rose, but the measurers saw no clear gain.",
};

describe("the evaluation report", () => {
  it("says the verdict first, tabulates every number with its interval, and inlines the grids", () => {
    const run = mkdtempSync(join(tmpdir(), "eval-report-"));
    const evalDir = join(run, "eval");
    mkdirSync(join(evalDir, "grids"), { recursive: true });
    const grid = join(evalDir, "grids", "prompt-0.png");
    writeFileSync(grid, PNG.sync.write(new PNG({ width: 4, height: 2 })));
    const html = readFileSync(
      writeEvalReport({ runDir: run, evalDir, recipe, summary, grids: [grid] }),
      "utf8",
    );
    const md = readFileSync(join(evalDir, "report.md"), "utf8");

    expect(md.split("\n")[2]).toBe(`**Probable judge hacking.** ${summary.verdict_text}`);
    expect(md).toContain(
      "| horizon at 30% of the height (+-0.03) | 10.0% [5.0, 15.0] | 10.0% [5.0, 15.0] | +0.0 [-5.0, +5.0] | 1 / 0 |",
    );
    expect(md).toContain(
      "| scenes-judge | training | 30.0% [25.0, 35.0] | 80.0% [75.0, 85.0] | +50.0 [+45.0, +55.0] |",
    );
    // the unreadable images the measurers took for another kind of picture are counted apart
    const otherKind = {
      ...summary.controls[0]!,
      other_kind: { reads: "landscape" as const, base: 1, taught: 0 },
    };
    const evalDir2 = join(run, "eval-other-kind");
    mkdirSync(evalDir2);
    const other = { ...summary, controls: [otherKind] };
    writeEvalReport({ runDir: run, evalDir: evalDir2, recipe, summary: other, grids: [] });
    const md2 = readFileSync(join(evalDir2, "report.md"), "utf8");
    expect(md2).toContain("| +0.0 [-5.0, +5.0] | 1 / 0 (not landscapes: 1 / 0) |");
    expect(md2).toContain("in brackets: of those, the images the measurers");
    expect(md).toContain("| sky | sky kind changed | 25.0% [20.0, 30.0] |");
    // whether the judge can answer the question at all, on renders whose answer is known
    expect(md).toContain("## Can the judges tell?");
    expect(md).toContain(
      "| scenes-judge | training | Is the <red> line on it? | 47 / 48 | 46.0% [41.0, 51.0] | 44.0% [39.0, 49.0] | 52.0% [47.0, 57.0] |",
    );
    expect(md).toContain("![](grids/prompt-0.png)");
    expect(JSON.parse(readFileSync(join(evalDir, "summary.json"), "utf8"))).toEqual(summary);

    // one file that opens from disk: the grid is inlined, nothing is fetched, text is escaped
    expect(html).toContain('<div class="verdict probable_hacking">');
    expect(html).toContain("data:image/png;base64,");
    expect(html).not.toMatch(/src="(?!data:)/);
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(html).toContain("Is the &lt;red&gt; line on it?");
    expect(html).toContain("a lake &amp; a tree");
    expect(md).not.toContain("## What the measurers read");
  });

  it("shows what the measurers read where the evaluation drew it (a depth or layout control)", () => {
    const run = mkdtempSync(join(tmpdir(), "eval-report-"));
    const evalDir = join(run, "eval");
    mkdirSync(evalDir, { recursive: true });
    const measured = join(evalDir, "measured.png");
    writeFileSync(measured, PNG.sync.write(new PNG({ width: 4, height: 2 })));
    const html = readFileSync(
      writeEvalReport({ runDir: run, evalDir, recipe, summary, grids: [], measured }),
      "utf8",
    );
    const md = readFileSync(join(evalDir, "report.md"), "utf8");
    expect(md).toContain("## What the measurers read");
    expect(md).toContain("![](measured.png)");
    expect(html).toContain("<h2>What the measurers read</h2>");
    expect(html).toContain('alt="what the measurers read" src="data:image/png;base64,');
  });

  it("says in which words a judge was asked where they were not the recipe's", () => {
    const run = mkdtempSync(join(tmpdir(), "eval-report-"));
    const evalDir = join(run, "eval");
    mkdirSync(evalDir, { recursive: true });
    const ownWords = "Is the red line drawn at the height of the horizon?";
    const reworded = {
      ...summary,
      judges: [
        ...summary.judges,
        {
          ...summary.judges[0]!,
          judge: "scenes-judge-heldout",
          role: "held-out" as const,
          questions: [{ ...summary.judges[0]!.questions[0]!, asked_as: ownWords }],
        },
      ],
      judge_checks: [{ ...summary.judge_checks[0]!, role: "held-out" as const, asked_as: ownWords }],
    };
    writeEvalReport({ runDir: run, evalDir, recipe, summary: reworded, grids: [] });
    const md = readFileSync(join(evalDir, "report.md"), "utf8");
    expect(md).toContain(`|   Is the <red> line on it? (asked as: ${ownWords}) |`);
    expect(md).toContain(`| held-out | Is the <red> line on it? (asked as: ${ownWords}) | 47 / 48 |`);
    expect(md).toContain("A Scenes judge is asked a Scenes question in its own words");
    // and nothing of the kind where every judge was asked the recipe's words
    writeEvalReport({ runDir: run, evalDir, recipe, summary, grids: [] });
    expect(readFileSync(join(evalDir, "report.md"), "utf8")).not.toContain("asked as");
  });

  it("says which judges taught together, so a co-judge's opinion is not read as a check", () => {
    const run = mkdtempSync(join(tmpdir(), "eval-report-"));
    const evalDir = join(run, "eval");
    mkdirSync(evalDir, { recursive: true });
    const coTaught = teachRecipe(
      parseRecipe(
        "prompts: [a drawing]\nco_judges: [scenes-judge-heldout]\nheldout_judge: scenes-judge-audit\n" +
          "questions:\n  - question: Is the <red> line on it?\n",
      ),
    );
    writeEvalReport({ runDir: run, evalDir, recipe: coTaught, summary, grids: [] });
    const note = "The LoRA was taught by scenes-judge together with scenes-judge-heldout (co_judges";
    expect(readFileSync(join(evalDir, "report.md"), "utf8")).toContain(note);
    expect(readFileSync(join(evalDir, "report.html"), "utf8")).toContain(note);
    writeEvalReport({ runDir: run, evalDir, recipe, summary, grids: [] });
    expect(readFileSync(join(evalDir, "report.md"), "utf8")).not.toContain("co_judges");
  });

  it("shows what a perfect control drifts next to the LoRA's drift when the floor was measured", () => {
    const run = mkdtempSync(join(tmpdir(), "eval-report-"));
    const evalDir = join(run, "eval");
    mkdirSync(evalDir, { recursive: true });
    const floored = {
      ...summary,
      drift: [
        { attribute: "sky", label: "sky kind changed", rate: at(0.25), floor: at(0) },
        { attribute: "objects", label: "objects changed", rate: at(0.3), floor: null },
      ],
    };
    writeEvalReport({ runDir: run, evalDir, recipe, summary: floored, grids: [] });
    const md = readFileSync(join(evalDir, "report.md"), "utf8");
    expect(md).toContain("| attribute | counts as a change | pairs changed | a perfect control |");
    expect(md).toContain("| sky | sky kind changed | 25.0% [20.0, 30.0] | 0.0% [-5.0, 5.0] |");
    expect(md).toContain("| objects | objects changed | 30.0% [25.0, 35.0] | n/a |");
  });

  it("tabulates the keep questions' answers per judge, and names the judge they were kept by", () => {
    const run = mkdtempSync(join(tmpdir(), "eval-report-"));
    const evalDir = join(run, "eval");
    mkdirSync(evalDir, { recursive: true });
    const keeping = teachRecipe(
      parseRecipe(
        "prompts: [a landscape]\nquestions:\n  - question: Is it night-time?\n" +
          "keep:\n  - question: Is the horizon low?\nkeep_judge: scenes-judge-audit\n",
      ),
    );
    const kept = {
      ...summary,
      kept: [
        {
          question: "Is the horizon low?",
          judge: "scenes-judge-heldout",
          role: "held-out" as const,
          asked_as: "Is the horizon in the lower third of the picture?",
          base: at(0.9),
          taught: at(0.3),
          difference: at(-0.6),
          changed: at(0.75),
        },
      ],
    };
    writeEvalReport({ runDir: run, evalDir, recipe: keeping, summary: kept, grids: [] });
    const md = readFileSync(join(evalDir, "report.md"), "utf8");
    expect(md).toContain("## Kept answers");
    expect(md).toContain("They were kept while teaching by scenes-judge-audit's answers");
    expect(md).toContain(
      "| Is the horizon low? (asked as: Is the horizon in the lower third of the picture?) | " +
        "scenes-judge-heldout | held-out | 90.0% [85.0, 95.0] | 30.0% [25.0, 35.0] | -60.0 [-65.0, -55.0] | " +
        "75.0% [70.0, 80.0] |",
    );
    expect(readFileSync(join(evalDir, "report.html"), "utf8")).toContain("Kept answers");
    const askedOnly = { ...keeping, training: { ...keeping.training, keep_weight: 0 } };
    writeEvalReport({ runDir: run, evalDir, recipe: askedOnly, summary: kept, grids: [] });
    expect(readFileSync(join(evalDir, "report.md"), "utf8")).toContain(
      "They did not teach (training.keep_weight 0): the held-out judge's rows are a drift check",
    );
    writeEvalReport({ runDir: run, evalDir, recipe, summary, grids: [] }); // none kept: no section
    expect(readFileSync(join(evalDir, "report.md"), "utf8")).not.toContain("Kept answers");
  });

  it("lists each rule of a control made of several under it", () => {
    const run = mkdtempSync(join(tmpdir(), "eval-report-"));
    const evalDir = join(run, "eval");
    mkdirSync(evalDir, { recursive: true });
    const palette = {
      attribute: "palette",
      wanted: true,
      label: "palette #336699 #ffffff (adherence <= 10 CIEDE2000, 2+ of its colours on 5% each)",
      question: "Palette?",
      pairs: 16,
      unmeasured: { base: 0, taught: 0 },
      other_kind: null,
      checks: [
        { label: "adherence <= 10 CIEDE2000", base: at(0.2), taught: at(0.9), difference: at(0.7) },
        { label: "2+ of its colours on 5% each", base: at(0.1), taught: at(0.4), difference: at(0.3) },
      ],
      details: [
        { label: "#336699 on 5%", base: at(0.3), taught: at(0.95), difference: at(0.65) },
        { label: "#ffffff on 5%", base: at(0.5), taught: at(0.05), difference: at(-0.45) },
      ],
      base: at(0.1),
      taught: at(0.4),
      difference: at(0.3),
    };
    const html = readFileSync(
      writeEvalReport({
        runDir: run,
        evalDir,
        recipe,
        summary: { ...summary, controls: [palette] },
        grids: [],
      }),
      "utf8",
    );
    expect(html).toContain('<td class="sub">adherence &lt;= 10 CIEDE2000</td>'); // indented by style in HTML
    // each colour's row shows the colour itself
    expect(html).toContain(
      '<td class="sub"><span class="swatch" style="background:#336699"></span>#336699 on 5%</td>',
    );
    expect(html).not.toContain('<span class="swatch" style="background:#336699"></span>adherence');
    const md = readFileSync(join(evalDir, "report.md"), "utf8");
    expect(md).toContain("has each rule's own success rate below it");
    expect(md).toContain(
      "|   adherence <= 10 CIEDE2000 | 20.0% [15.0, 25.0] | 90.0% [85.0, 95.0] | +70.0 [+65.0, +75.0] |  |",
    );
    expect(md).toContain("|   2+ of its colours on 5% each | 10.0% [5.0, 15.0] | 40.0% [35.0, 45.0] |");
    expect(md).toContain("which colours the LoRA uses, and which it leaves out");
    expect(md).toContain("|   #ffffff on 5% | 50.0% [45.0, 55.0] | 5.0% [0.0, 10.0] |");
    writeEvalReport({ runDir: run, evalDir, recipe, summary, grids: [] });
    const plain = readFileSync(join(evalDir, "report.md"), "utf8");
    expect(plain).not.toContain("each rule's own");
    expect(plain).not.toContain("one by one");
  });

  it("says why a question has no score: it was asked of no evaluation prompt", () => {
    const run = mkdtempSync(join(tmpdir(), "eval-report-"));
    const evalDir = join(run, "eval");
    mkdirSync(evalDir, { recursive: true });
    const judge = summary.judges[0]!;
    const unasked = { question: "Is the sky a night sky?", base: null, taught: null, difference: null };
    const withUnasked = { ...summary, judges: [{ ...judge, questions: [...judge.questions, unasked] }] };
    writeEvalReport({ runDir: run, evalDir, recipe, summary: withUnasked, grids: [] });
    const md = readFileSync(join(evalDir, "report.md"), "utf8");
    expect(md).toContain("|   Is the sky a night sky? |  | n/a | n/a | n/a |");
    expect(md).toContain("none of them an evaluation prompt");
    writeEvalReport({ runDir: run, evalDir, recipe, summary, grids: [] });
    expect(readFileSync(join(evalDir, "report.md"), "utf8")).not.toContain(
      "none of them an evaluation prompt",
    );
  });
});
