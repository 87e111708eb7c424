import { describe, expect, it } from "vitest";
import type { Command } from "commander";
import { EventEmitter } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildProgram, main } from "../../src/cli/main.js";
import { endQuietlyOnClosedPipe } from "../../src/cli/io.js";
import { capture } from "./capture.js";

function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
}

const paths = commandPaths(buildProgram(capture()));

describe("the CLI's conventions (in-process)", () => {
  it("has the planned commands that exist so far", () => {
    expect(paths.map((p) => p.join(" "))).toEqual(
      expect.arrayContaining([
        "world",
        "world render",
        "world qa",
        "world measure",
        "world train-judge",
        "world judge-pool",
        "world train-generator",
        "teach",
        "runs",
        "studio",
        "ask",
        "generate",
        "bench",
        "bench teach",
        "recipe",
        "recipe check",
        "models",
        "doctor",
      ]),
    );
  });

  it.each(paths)("'%s --help' prints usage and exits 0", async (...path: string[]) => {
    const io = capture();
    expect(await main([...path, "--help"], io)).toBe(0);
    expect(io.stdout()).toMatch(new RegExp(`^Usage: dualproc ${path.join(" ")}`));
  });

  it("an unknown command exits 2 with one line naming the allowed commands", async () => {
    const io = capture();
    expect(await main(["tech"], io)).toBe(2);
    expect(io.stderr().trim().split("\n")).toHaveLength(1);
    expect(io.stderr()).toContain("unknown command 'tech'");
    expect(io.stderr()).toContain(
      "commands: world, teach, eval, runs, compare, studio, ask, generate, bench, recipe, models, doctor",
    );
  });

  it("an unknown command that names a nested one says which it may mean, with or without --help", async () => {
    for (const argv of [["measure"], ["measure", "a.png", "--help"], ["train-judge", "-h"]]) {
      const io = capture();
      expect(await main(argv, io)).toBe(2);
      const line = io.stderr().trim();
      expect(line.split("\n")).toHaveLength(1);
      expect(line).toContain(`unknown command '${argv[0]}'`);
      expect(line).toContain(`did you mean 'dualproc world ${argv[0]}'?`);
      expect(io.stdout()).toBe("");
    }
    const nested = capture();
    expect(await main(["world", "check", "--help"], nested)).toBe(2);
    expect(nested.stderr()).toMatch(/^dualproc world: unknown command 'check'/);
    expect(nested.stdout()).toBe("");
  });

  it("an unknown flag exits 2 with one line naming the allowed flags", async () => {
    const io = capture();
    expect(await main(["world", "render", "--out", "x", "--colour", "red"], io)).toBe(2);
    const line = io.stderr().trim();
    expect(line.split("\n")).toHaveLength(1);
    expect(line).toMatch(/^dualproc world render: unknown option '--colour' \(options: .*--seed.*--out/);
  });

  it("a bad value exits 2 and says what is allowed", async () => {
    const io = capture();
    expect(await main(["world", "render", "--out", "x", "--kind", "city"], io)).toBe(2);
    expect(io.stderr()).toContain("expected one of landscape, lineart, mix");
  });

  it("an empty prompt, question or answer exits 2 before any engine work", async () => {
    for (const argv of [
      ["generate", "--prompt", "", "--out", "x"],
      ["ask", "a.png", "--question", " "],
      ["ask", "a.png", "--question", "Is it night?", "--answer", ""],
      ["recipe", "questions", "Is it night?", "--answer", ""],
    ]) {
      const io = capture();
      expect(await main(argv, io)).toBe(2);
      expect(io.stderr()).toMatch(/expected an? (prompt|question|answer), got an empty text/);
    }
  });

  it("no arguments prints help to stderr and exits 2", async () => {
    const io = capture();
    expect(await main([], io)).toBe(2);
    expect(io.stderr()).toMatch(/^Usage: dualproc/);
  });

  it("a broken recipe is one line, exit 1", async () => {
    const io = capture();
    expect(await main(["recipe", "check", "no-such-recipe.yaml"], io)).toBe(1);
    expect(io.stderr()).toBe("dualproc: no-such-recipe.yaml: no such recipe file\n");
  });

  it("recipe check lists the pair questions a palette recipe asks, with their strips", async () => {
    const io = capture();
    expect(await main(["recipe", "check", "../recipes/palette-colours.yaml"], io)).toBe(0);
    expect(io.stdout()).toContain("pair_weight: 0.3");
    const pairs = io
      .stderr()
      .split("\n")
      .filter((line) => line.includes("(pair of questions[0], weight 0.3)"));
    expect(pairs).toHaveLength(2);
    expect(pairs[0]).toContain('{"kind":"palette","colors":["#264653","#f4a261"]}');
    expect(io.stderr()).toContain("3 question(s) asked");
  });

  it("recipe check says how many keep questions are asked, of which judge", async () => {
    const dir = mkdtempSync(join(tmpdir(), "recipe-keep-"));
    const file = join(dir, "keep.yaml");
    writeFileSync(
      file,
      "prompts: [a sunny landscape]\nquestions: [{question: Is it night-time?}]\n" +
        "keep: [{question: Is the horizon low in the image?}]\nkeep_judge: scenes-judge-audit\n",
    );
    const io = capture();
    expect(await main(["recipe", "check", file], io)).toBe(0);
    expect(io.stderr()).toContain(
      "1 question(s) asked, 1 keep question(s) asked of scenes-judge-audit (training.keep_weight 1)",
    );
    expect(io.stdout()).toContain("keep_judge: scenes-judge-audit");
  });

  it("-q silences the summary but not the result", async () => {
    const io = capture();
    expect(await main(["recipe", "check", "../recipes/horizon-low.yaml", "-q"], io)).toBe(0);
    expect(io.stdout()).toContain("max_train_steps: 150");
    expect(io.stderr()).toBe("");
  });
});

describe("CLI commands against the real engine", () => {
  it("models --json prints the engine's answer", async () => {
    const io = capture();
    expect(await main(["models", "--json"], io)).toBe(0);
    const parsed = JSON.parse(io.stdout()) as { models: { name: string; present: boolean }[] };
    expect(parsed.models.find((m) => m.name === "qwen2.5-vl-7b")).toMatchObject({ present: false });
  });
});

describe("dualproc teach, before any engine work", () => {
  it("needs a recipe or --resume, and refuses both", async () => {
    const io = capture();
    expect(await main(["teach"], io)).toBe(2);
    expect(io.stderr()).toBe("dualproc: teach needs a recipe file (or --resume RUN_FOLDER)\n");
    const io2 = capture();
    expect(await main(["teach", "--resume", "/nonexistent-run"], io2)).toBe(2);
    expect(io2.stderr()).toContain("not a teach run folder");
  });
});

describe("a reader that closes the pipe early (dualproc ... | head)", () => {
  it("ends the CLI quietly with its exit code so far, and still throws other stream errors", () => {
    const stream = new EventEmitter();
    const exits: number[] = [];
    endQuietlyOnClosedPipe(stream, (code) => exits.push(code));
    process.exitCode = undefined;
    stream.emit("error", Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    expect(exits).toEqual([0]);
    expect(() => stream.emit("error", Object.assign(new Error("disk full"), { code: "ENOSPC" }))).toThrow(
      "disk full",
    );
  });
});
