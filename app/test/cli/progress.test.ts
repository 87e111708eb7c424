import { describe, expect, it } from "vitest";
import { Progress, formatRate } from "../../src/cli/progress.js";
import { timeLeft } from "../../src/runs/time-left.js";
import { Console } from "../../src/cli/io.js";
import { capture } from "./capture.js";

function progressWithClock(label: string) {
  const io = capture();
  let now = 1_000_000;
  const progress = new Progress(new Console(io, "normal"), label, () => now);
  return { io, progress, advance: (ms: number) => (now += ms) };
}

describe("progress lines", () => {
  it("show the rate and an estimate of the time left", () => {
    const { io, progress, advance } = progressWithClock("teach");
    advance(5_000); // loading the models: not counted
    progress.update(0, 150, "steps");
    expect(io.stderr()).toBe("teach [........................] 0/150 steps\n"); // no rate from one sample
    advance(10_000);
    progress.update(30, 150, "steps"); // 3 steps/s, 120 left: about 40 s
    expect(io.stderr().trim().split("\n").at(-1)).toBe(
      "teach [#####...................] 30/150 steps 3.0 steps/s, about 40 s left",
    );
    advance(40_000);
    progress.update(150, 150, "steps");
    expect(io.stderr().trim().split("\n").at(-1)).not.toContain("left");
  });

  it("count a resumed job's rate from where it resumed", () => {
    const { io, progress, advance } = progressWithClock("teach");
    progress.update(100, 1000, "steps");
    advance(100_000);
    progress.update(200, 1000, "steps"); // 1 step/s over this run, not 2
    expect(io.stderr()).toContain("200/1000 steps 1.0 steps/s, about 13 min left");
  });

  it("show a slow rate as the seconds each one takes", () => {
    const { io, progress, advance } = progressWithClock("judge-pool");
    progress.update(1, 16, "sources");
    advance(27_000);
    progress.update(2, 16, "sources");
    expect(io.stderr().trim().split("\n").at(-1)).toBe(
      "judge-pool [###.....................] 2/16 sources 27 s each, about 6 min left",
    );
    expect(formatRate(0.5, "steps")).toBe("0.5 steps/s");
    expect(formatRate(0.1, "steps")).toBe("10 s each");
  });

  it("round the estimate as far as it deserves", () => {
    expect(timeLeft(0.2)).toBe("about 1 s");
    expect(timeLeft(42)).toBe("about 40 s");
    expect(timeLeft(150)).toBe("about 3 min");
    expect(timeLeft(3900)).toBe("about 1 h 5 min");
  });
});
