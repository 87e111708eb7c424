import { Command } from "commander";
import type { CliContext } from "../context.js";
import { runEngineJob } from "../engine-job.js";
import { integer } from "../options.js";

export function benchCommand(context: CliContext): Command {
  const bench = new Command("bench").description(
    "benchmarks that report what they measure, side by side in one run",
  );
  bench.addCommand(
    context
      .command("teach", "steps/s of the teach loop vs a reference-style loop (one judge pass per question)")
      .option("--steps <n>", "timed steps per loop", integer(1, 10_000), 10)
      .option("--json", "print the result as JSON")
      .addHelpText(
        "after",
        "\nBoth loops run on the same models (the embedded sizes, random weights) in the same process, on one\n" +
          "thread on the CPU, their steps interleaved so that load on the machine hits both alike.",
      )
      .action(async (options: { steps: number; json?: boolean }, self: Command) => {
        const console = context.consoleFor(self);
        const r = await runEngineJob(console, "bench_teach", { steps: options.steps });
        if (options.json) return console.result(JSON.stringify(r, null, 2));
        const memory = (mb: number | null) => (mb === null ? "not measured (CPU)" : `${mb.toFixed(0)} MiB`);
        console.result(
          [
            `${r.questions} questions about ${r.pictures} pictures, ${r.steps} timed steps each`,
            `ours       ${r.ours.steps_per_s.toFixed(2)} steps/s, peak memory ${memory(r.ours.peak_memory_mb)}`,
            `reference  ${r.reference.steps_per_s.toFixed(2)} steps/s, peak memory ${memory(r.reference.peak_memory_mb)}`,
            `speed-up   ${r.speedup.toFixed(2)}x`,
          ].join("\n"),
        );
      }),
  );
  return bench;
}
