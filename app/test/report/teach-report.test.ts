import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseRecipe, teachRecipe } from "../../src/recipes/load.js";
import { readMetrics, writeTeachReport } from "../../src/report/teach-report.js";

const recipe = teachRecipe(
  parseRecipe("name: horizon-30\nprompts: [a landscape]\nquestions:\n  - question: Is the horizon low?\n"),
);

describe("the teach report", () => {
  it("charts loss and scores from metrics.jsonl and tabulates first and last scores", () => {
    const dir = mkdtempSync(join(tmpdir(), "report-"));
    const rows = [0, 1, 2].map((step) =>
      JSON.stringify({ step, loss: 1 - step / 4, scores: [0.3 + step / 5] }),
    );
    writeFileSync(join(dir, "metrics.jsonl"), rows.join("\n") + '\n{"step": 3, "lo'); // a crash cut the last line
    mkdirSync(join(dir, "grids"));
    writeFileSync(join(dir, "grids", "step-0000.png"), "");
    writeFileSync(join(dir, "grids", "step-0002.png"), "");
    expect(readMetrics(dir)).toHaveLength(3);
    const report = readFileSync(writeTeachReport(dir, recipe), "utf8");
    expect(report).toContain("| Is the horizon low? | Yes | 1 | 0.300 | 0.700 |");
    expect(report).toContain("![step-0000.png](grids/step-0000.png)");
    expect(report).toContain("![step-0002.png](grids/step-0002.png)");
    const svg = readFileSync(join(dir, "score-curve.svg"), "utf8");
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain("score 0: Is the horizon low?<");
  });

  it("still writes a report for a run that logged nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "report-"));
    const report = readFileSync(writeTeachReport(dir, recipe), "utf8");
    expect(report).toContain("0 logged step(s)");
    expect(report).toContain("training seed 0;");
  });

  it("names the training seed, so runs of one recipe at several seeds can be told apart", () => {
    const dir = mkdtempSync(join(tmpdir(), "report-"));
    const seeded = teachRecipe(
      parseRecipe("prompts: [a landscape]\nquestions: [{ question: Is it night? }]\ntraining: { seed: 3 }\n"),
    );
    expect(readFileSync(writeTeachReport(dir, seeded), "utf8")).toContain("training seed 3;");
    expect(readFileSync(join(dir, "score-curve.svg"), "utf8")).toContain("no data yet");
  });

  it("names the co-judges, whose answers the scores average with the judge's", () => {
    const dir = mkdtempSync(join(tmpdir(), "report-"));
    const coTaught = teachRecipe(
      parseRecipe(
        "prompts: [a drawing]\nco_judges: [scenes-judge-heldout]\nheldout_judge: scenes-judge-audit\n" +
          "questions: [{ question: Is it night? }]\n",
      ),
    );
    const report = readFileSync(writeTeachReport(dir, coTaught), "utf8");
    expect(report).toContain("judge `scenes-judge`, co-judges `scenes-judge-heldout`, training seed 0;");
    expect(report).toContain("the geometric mean over the judge");
    expect(readFileSync(writeTeachReport(dir, recipe), "utf8")).not.toContain("co-judges");
  });
});

describe("the teach report of a run with questions asked of some prompts only", () => {
  it("names the answers kept, the judge they were kept by, and the keep term's first and last value", () => {
    const dir = mkdtempSync(join(tmpdir(), "report-"));
    const rows = [0.0, 0.0213, 0.0502].map((keep, step) =>
      JSON.stringify({ step, loss: 1, scores: [0.5], keep_loss: keep }),
    );
    writeFileSync(join(dir, "metrics.jsonl"), rows.join("\n") + "\n");
    const keeping = teachRecipe(
      parseRecipe(
        "prompts: [a landscape]\nquestions: [{question: Is it night-time?}]\n" +
          "keep: [{question: Is the horizon low?}, {question: Is it overcast?}]\nkeep_judge: scenes-judge-audit\n",
      ),
    );
    const report = readFileSync(writeTeachReport(dir, keeping), "utf8");
    expect(report).toContain(
      'Answers kept (`keep`, asked of `scenes-judge-audit`, weight 1): "Is the horizon low?", "Is it overcast?"; ' +
        "keep term (the judge's answers moved from the base images', KL) 0.0000 at the first step, 0.0502 at the last;",
    );
    expect(readFileSync(writeTeachReport(dir, recipe), "utf8")).not.toContain("Answers kept");
  });

  it("shows each question's first and last logged score, skipping steps it was not asked, and grids in step order", () => {
    const dir = mkdtempSync(join(tmpdir(), "report-"));
    const two = teachRecipe(
      parseRecipe(
        "prompts: {template: 'a {sky} landscape', slots: {sky: [night, sunny]}}\nquestions:\n" +
          "  - question: Is the horizon low?\n  - question: Is the sky a night sky?\n    when: {sky: night}\n",
      ),
    );
    const scores = [
      [0.1, null],
      [0.2, 0.5],
      [0.3, 0.6],
      [0.4, null],
    ];
    const rows = scores.map((s, step) => JSON.stringify({ step, loss: 1, scores: s }));
    writeFileSync(join(dir, "metrics.jsonl"), rows.join("\n") + "\n");
    mkdirSync(join(dir, "grids"));
    for (const step of [50, 100, 150]) writeFileSync(join(dir, "grids", `step-${step}.png`), "");
    const report = readFileSync(writeTeachReport(dir, two), "utf8");
    expect(report).toContain("| Is the sky a night sky? | Yes | 1 | 0.500 | 0.600 |");
    expect(report).toContain("| Is the horizon low? | Yes | 1 | 0.100 | 0.400 |");
    expect(report).toContain("![step-50.png](grids/step-50.png)\n![step-150.png](grids/step-150.png)");
  });
});
