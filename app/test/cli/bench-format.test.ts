import { describe, expect, it } from "vitest";
import { formatBench } from "../../src/cli/commands/bench.js";

const loop = (stepsPerS: number, peakMb: number | null, checkpointing: boolean) => ({
  steps_per_s: stepsPerS,
  peak_memory_mb: peakMb,
  checkpointing,
});

/** A full-scale result shaped as the engine reports it: 1 and 4 questions checkpointing, then 4 not. */
const first = {
  questions: 1,
  pictures: 1,
  ours: loop(1, 39 * 1024, true),
  reference: loop(2, 50 * 1024, false),
  speedup: 0.5,
};
const full = {
  scale: "full" as const,
  device: "GPU",
  generator: "FLUX.1-schnell",
  judge: "Qwen2.5-VL-7B-Instruct",
  resolution_px: 512,
  steps: 10,
  settings: [
    first,
    {
      questions: 4,
      pictures: 2,
      ours: loop(1, 39 * 1024, true),
      reference: loop(1, 60 * 1024, false),
      speedup: 1,
    },
    {
      questions: 4,
      pictures: 2,
      ours: loop(2.5, 55 * 1024, false),
      reference: loop(1, 60 * 1024, false),
      speedup: 2.5,
    },
  ],
};

describe("formatBench", () => {
  it("reads the memory target off the checkpointing settings and the speed target off each 4-question one", () => {
    const text = formatBench(full);
    // 55 GiB without checkpointing is a speed setting, not the memory-bound one
    expect(text).toContain(
      "target: peak <= 40 GiB for the pair (ours, checkpointing): 39.0 GiB (41.9 GB), met",
    );
    expect(text).toContain("at 4 questions (ours checkpointing): 1.00x, NOT met");
    expect(text).toContain("at 4 questions (ours not checkpointing): 2.50x, met");
    expect(text.match(/question\(s\) about/g)).toHaveLength(3);
  });

  it("says what was not measured", () => {
    const text = formatBench({ ...full, settings: [{ ...first, ours: loop(1, null, true) }] });
    expect(text).toContain("for the pair (ours, checkpointing): not measured");
    expect(text).toContain("at 4 questions: not measured");
  });
});
