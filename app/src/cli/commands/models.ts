import type { Command } from "commander";
import type { ResultOf } from "../../protocol/messages.js";
import type { CliContext } from "../context.js";
import { runEngineJob } from "../engine-job.js";
import { table } from "../table.js";

export function modelsCommand(context: CliContext): Command {
  return context
    .command("models", "list the generator and judge presets and which are present on this machine")
    .option("--json", "print the engine's answer as JSON")
    .addHelpText(
      "after",
      "\nOnly the Hugging Face cache and the engine's shipped weights are read; nothing is downloaded.",
    )
    .action(async (options: { json?: boolean }, command: Command) => {
      const console = context.consoleFor(command);
      const result = await runEngineJob(console, "models", {});
      console.result(options.json ? JSON.stringify(result, null, 2) : formatModels(result));
    });
}

export function formatModels(result: ResultOf<"models">): string {
  const rows = result.models.map((m) => [
    m.name,
    m.role,
    m.family,
    m.present ? "yes" : "no",
    m.memory_gb === null ? "-" : `${m.memory_gb} GB`,
    m.present ? (m.path ?? "") : m.source,
  ]);
  return table(["NAME", "ROLE", "FAMILY", "PRESENT", "TRAIN MEMORY", "SOURCE / PATH"], rows);
}
