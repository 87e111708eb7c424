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
});
