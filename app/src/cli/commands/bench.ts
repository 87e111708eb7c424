import { Command } from "commander";
import type { CliContext } from "../context.js";
import { runEngineJob } from "../engine-job.js";
import { choice, integer } from "../options.js";
import { BENCH_SCALES, type ResultOf } from "../../protocol/messages.js";

type BenchScale = (typeof BENCH_SCALES)[number];
type BenchResult = ResultOf<"bench_teach">;

/** Issue #7's targets for the full scale: the pair within 40 GB, and twice the reference's steps/s at 4
 * questions. The memory target is read as GiB (what CUDA's allocator counts): the two models' bf16 weights
 * alone are 40.5 * 10^9 bytes (37.7 GiB), so 10^9-byte gigabytes could not be met (docs/benchmarks.md). */
const PEAK_MEMORY_TARGET_GIB = 40;
const SPEEDUP_TARGET = 2;

export function benchCommand(context: CliContext): Command {
  const bench = new Command("bench").description(
    "benchmarks that report what they measure, side by side in one run",
  );
  bench.addCommand(
    context
      .command("teach", "steps/s of the teach loop vs a reference-style loop (one judge pass per question)")
      .option("--steps <n>", "timed steps per loop", integer(1, 10_000), 10)
      .option(
        "--scale <scale>",
        `${BENCH_SCALES.join(" | ")}: embedded models (CPU), FLUX.1-schnell + Qwen2.5-VL-7B at full size (CUDA), ` +
          "or the full code on tiny configs",
        choice(BENCH_SCALES),
        "embedded",
      )
      .option("--json", "print the result as JSON")
      .addHelpText(
        "after",
        "\nBoth loops run on the same models (random weights) in the same process, their steps interleaved so\n" +
          "that load on the machine hits both alike. embedded: the embedded sizes, 4 questions, one CPU thread,\n" +
          "no checkpointing. full: FLUX.1-schnell and Qwen2.5-VL-7B built from their published configs, bf16,\n" +
          "512 px, at 1 and 4 questions with our loop checkpointing, then at 4 with it not; the reference's never\n" +
          "checkpoints. See docs/benchmarks.md.",
      )
      .action(async (options: { steps: number; scale: BenchScale; json?: boolean }, self: Command) => {
        const console = context.consoleFor(self);
        const r = await runEngineJob(console, "bench_teach", { steps: options.steps, scale: options.scale });
        if (options.json) return console.result(JSON.stringify(r, null, 2));
        console.result(formatBench(r));
      }),
  );
  return bench;
}

const memory = (mb: number | null) => (mb === null ? "not measured (CPU)" : `${(mb / 1024).toFixed(1)} GiB`);

/** The result as lines: what ran, then each setting's loops, then the full scale's targets. */
export function formatBench(r: BenchResult): string {
  const lines = [`${r.scale} scale on ${r.device}, ${r.resolution_px} px, ${r.steps} timed steps per loop`];
  lines.push(`generator  ${r.generator}`, `judge      ${r.judge}`);
  for (const s of r.settings) {
    lines.push(`${s.questions} question(s) about ${s.pictures} picture(s)`);
    for (const [name, t] of [
      ["ours", s.ours],
      ["reference", s.reference],
    ] as const) {
      const checkpointing = t.checkpointing ? "checkpointing" : "no checkpointing";
      lines.push(
        `  ${name.padEnd(10)} ${(1 / t.steps_per_s).toFixed(3)} s/step (${t.steps_per_s.toFixed(2)} steps/s), ` +
          `peak memory ${memory(t.peak_memory_mb)}, ${checkpointing}`,
      );
    }
    lines.push(`  speed-up   ${s.speedup.toFixed(2)}x`);
  }
  if (r.scale === "full") lines.push(...targets(r));
  return lines.join("\n");
}

function targets(r: BenchResult): string[] {
  // memory: our loop as a memory-bound run trains (checkpointing); speed: each 4-question setting
  const peaks = r.settings
    .filter((s) => s.ours.checkpointing)
    .map((s) => s.ours.peak_memory_mb)
    .filter((mb): mb is number => mb !== null);
  const peakGib = peaks.length ? Math.max(...peaks) / 1024 : null;
  const fours = r.settings.filter((s) => s.questions === 4);
  const met = (ok: boolean) => (ok ? "met" : "NOT met");
  const speed = `target: >= ${SPEEDUP_TARGET}x the reference's steps/s at 4 questions`;
  return [
    peakGib === null
      ? `target: peak <= ${PEAK_MEMORY_TARGET_GIB} GiB for the pair (ours, checkpointing): not measured`
      : `target: peak <= ${PEAK_MEMORY_TARGET_GIB} GiB for the pair (ours, checkpointing): ${peakGib.toFixed(1)} GiB ` +
        `(${((peakGib * 2 ** 30) / 1e9).toFixed(1)} GB), ${met(peakGib <= PEAK_MEMORY_TARGET_GIB)}`,
    ...(fours.length === 0
      ? [`${speed}: not measured`]
      : fours.map(
          (s) =>
            `${speed} (ours ${s.ours.checkpointing ? "checkpointing" : "not checkpointing"}): ` +
            `${s.speedup.toFixed(2)}x, ${met(s.speedup >= SPEEDUP_TARGET)}`,
        )),
  ];
}
