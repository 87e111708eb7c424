import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { capture } from "./capture.js";

const RECIPE = (name: string) => `name: ${name}
prompts: [a sunny landscape]
questions:
  - question: Is the red line aligned with the horizon?
    visual_prompt: { kind: horizon, y: 0.3 }
`;

function runJson(status: string, createdAt: string, done: number, unit: string, error?: string) {
  return JSON.stringify({
    status,
    created_at: createdAt,
    finished_at: status === "running" ? null : createdAt,
    progress: { done, total: 150, unit },
    metrics: { loss: { value: 0.5 } },
    error: error ? { message: error } : null,
  });
}

/** A runs folder with a finished, evaluated run and an older one that failed after a checkpoint. */
function runsFolder(): string {
  const root = mkdtempSync(join(tmpdir(), "dualproc-runs-"));
  const done = join(root, "taught");
  mkdirSync(join(done, "eval"), { recursive: true });
  writeFileSync(join(done, "recipe.yaml"), RECIPE("horizon-30"));
  writeFileSync(join(done, "run.json"), runJson("succeeded", "2026-11-30T10:00:00Z", 150, "steps"));
  writeFileSync(join(done, "eval", "run.json"), runJson("succeeded", "2026-11-30T10:01:00Z", 96, "images"));
  writeFileSync(join(done, "eval", "summary.json"), JSON.stringify({ verdict_text: "the control took." }));
  writeFileSync(join(done, "eval", "report.html"), "<html></html>");
  const failed = join(root, "crashed");
  mkdirSync(join(failed, "checkpoints", "step-50"), { recursive: true });
  writeFileSync(join(failed, "recipe.yaml"), RECIPE("palette"));
  writeFileSync(
    join(failed, "run.json"),
    runJson("failed", "2026-11-29T09:00:00Z", 50, "steps", "worker died"),
  );
  mkdirSync(join(root, "not-a-run")); // no recipe.yaml: left out
  return root;
}

describe("dualproc runs", () => {
  it("lists each run newest first: state, teaching steps (not the evaluation's images), verdict, report", async () => {
    const root = runsFolder();
    const io = capture();
    expect(await main(["runs", "--runs", root], io)).toBe(0);
    const blocks = io.stdout().trim().split("\n\n");
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toContain("horizon-30  succeeded  150/150 steps  started 2026-11-30 10:00");
    expect(blocks[0]).toContain("the control took.");
    expect(blocks[0]).toContain(join("taught", "eval", "report.html"));
    expect(blocks[1]).toContain("palette  failed  50/150 steps");
    expect(blocks[1]).toContain("error: worker died");
    expect(blocks[1]).toMatch(/resume: dualproc teach --resume .*crashed/);
  });

  it("prints the run summaries as JSON", async () => {
    const io = capture();
    expect(await main(["runs", "--runs", runsFolder(), "--json"], io)).toBe(0);
    const runs = JSON.parse(io.stdout()) as { id: string; teach_progress: { done: number } }[];
    expect(runs.map((r) => [r.id, r.teach_progress.done])).toEqual([
      ["taught", 150],
      ["crashed", 50],
    ]);
  });

  it("tells a run that never started from one whose run.json cannot be read", async () => {
    const root = mkdtempSync(join(tmpdir(), "dualproc-runs-"));
    for (const name of ["never", "garbled"]) {
      mkdirSync(join(root, name));
      writeFileSync(join(root, name, "recipe.yaml"), RECIPE(name));
    }
    writeFileSync(join(root, "garbled", "run.json"), "{cut sho");
    const io = capture();
    expect(await main(["runs", "--runs", root], io)).toBe(0);
    expect(io.stdout()).toContain("error: no run.json: the run never started");
    expect(io.stdout()).toContain("error: run.json cannot be read");
  });

  it("says how to start when there are no runs, and a file for the folder is a usage error", async () => {
    const empty = capture();
    expect(await main(["runs", "--runs", join(tmpdir(), "no-such-runs-folder")], empty)).toBe(0);
    expect(empty.stdout()).toContain("no teach runs in");
    const root = runsFolder();
    const io = capture();
    expect(await main(["runs", "--runs", join(root, "taught", "recipe.yaml")], io)).toBe(2);
    expect(io.stderr().trim().split("\n")).toHaveLength(1);
  });
});
