import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { main } from "../../src/cli/main.js";
import type { CliIO } from "../../src/cli/io.js";

function capture() {
  const io = { out: "", err: "" };
  const cli: CliIO = { out: (t) => (io.out += t), err: (t) => (io.err += t), errIsTTY: false };
  return { io, cli };
}

/** A 64 px sky-over-grass PNG with the horizon at row `row`. */
function landscapePng(row: number): Buffer {
  const png = new PNG({ width: 64, height: 64 });
  for (let y = 0; y < 64; y++) {
    for (let x = 0; x < 64; x++) {
      const i = (y * 64 + x) * 4;
      const colour = y < row ? [110, 160, 225] : [70, 130, 60];
      png.data.set([...colour, 255], i);
    }
  }
  return PNG.sync.write(png);
}

describe("dualproc world measure", () => {
  it("prints one JSON object per image with the horizon, and keeps going past bad files", async () => {
    const dir = mkdtempSync(join(tmpdir(), "measure-"));
    writeFileSync(join(dir, "a.png"), landscapePng(40));
    writeFileSync(join(dir, "b.png"), landscapePng(16));
    writeFileSync(join(dir, "notes.txt"), "hello");
    const { io, cli } = capture();
    const files = ["a.png", "notes.txt", "b.png"].map((f) => join(dir, f));
    expect(await main(["world", "measure", ...files], cli)).toBe(1);
    const lines = io.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { file: string; horizon: number });
    expect(lines.map((l) => l.file)).toEqual([files[0], files[2]]);
    expect(lines[0]!.horizon).toBeCloseTo(40 / 64, 2);
    expect(lines[1]!.horizon).toBeCloseTo(16 / 64, 2);
    expect(io.err).toBe(`warning: ${files[1]}: not a PNG or JPEG file\n`);
  });

  it("--points adds the depth at A and B, as the evaluation measures relative depth", async () => {
    const dir = mkdtempSync(join(tmpdir(), "measure-"));
    const file = join(dir, "a.png");
    writeFileSync(file, landscapePng(40));
    type Depth = { a: number | null; b: number | null; a_nearer: boolean };
    const depthAt = async (...points: string[]) => {
      const { io, cli } = capture();
      const args = points.flatMap((p) => ["--points", p]);
      expect(await main(["world", "measure", file, ...args], cli)).toBe(0);
      return (JSON.parse(io.out) as { depth: Depth[] }).depth;
    };
    // A on the ground near the bottom, B in the sky: A is nearer, B infinitely far (null)
    const [low] = await depthAt("0.5,0.9,0.5,0.2");
    expect(low!.a_nearer).toBe(true);
    expect(low!.a).toBeCloseTo((1 - 40 / 64) / (0.9 - 40 / 64), 1);
    expect(low!.b).toBeNull();
    // repeated: one entry per pair, in order; two ground points: the lower one is the nearer
    const pairs = await depthAt("0.5,0.2,0.5,0.9", "0.2,0.95,0.8,0.7", "0.5,0.9,0.5,0.2");
    expect(pairs.map((d) => d.a_nearer)).toEqual([false, true, true]);
    expect(pairs[2]).toEqual(low);
  });

  it("--box (repeatable) adds how much of each box objects cover, as the evaluation measures a layout", async () => {
    const dir = mkdtempSync(join(tmpdir(), "measure-"));
    const file = join(dir, "a.png");
    writeFileSync(file, landscapePng(40)); // sky over grass, nothing standing anywhere
    const { io, cli } = capture();
    expect(
      await main(["world", "measure", file, "--box", "0.1,0.7,0.4,0.9", "--box", "0.5,0.1,0.9,0.3"], cli),
    ).toBe(0);
    const { layout } = JSON.parse(io.out) as { layout: { coverage: number[]; followed: boolean } };
    expect(layout).toEqual({ coverage: [0, 0], followed: false });
    const bad = capture();
    expect(await main(["world", "measure", file, "--box", "0.5,0.1,0.4,0.3"], bad.cli)).not.toBe(0);
    expect(bad.io.err).toMatch(/four fractions X0,Y0,X1,Y1 from 0 to 1, with X0 < X1/);
  });

  it("refuses --points that are not four fractions, before reading any image", async () => {
    const { io, cli } = capture();
    expect(await main(["world", "measure", "missing.png", "--points", "0.1,0.2"], cli)).not.toBe(0);
    expect(io.err).toMatch(/four numbers/);
    expect(io.out).toBe("");
  });
});
