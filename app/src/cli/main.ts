/**
 * The `dualproc` command line. Exit statuses: 0 ok, 1 the work failed or the input was wrong,
 * 2 the command line was wrong, 130 cancelled.
 */
import { Command, CommanderError } from "commander";
import { EngineError } from "../engine/errors.js";
import { RecipeError } from "../recipes/load.js";
import { CliContext, applyConventions } from "./context.js";
import { EXIT, UsageError } from "./errors.js";
import { processIO, type CliIO } from "./io.js";
import { askCommand } from "./commands/ask.js";
import { benchCommand } from "./commands/bench.js";
import { compareCommand } from "./commands/compare.js";
import { evalCommand } from "./commands/eval.js";
import { doctorCommand } from "./commands/doctor.js";
import { generateCommand } from "./commands/generate.js";
import { modelsCommand } from "./commands/models.js";
import { recipeCommand } from "./commands/recipe.js";
import { runsCommand } from "./commands/runs.js";
import { studioCommand } from "./commands/studio.js";
import { teachCommand } from "./commands/teach.js";
import { worldCommand } from "./commands/world/index.js";

export const VERSION = "0.1.0";

export function buildProgram(io: CliIO): Command {
  const context = new CliContext(io);
  const program = new Command("dualproc")
    .description(
      "Teach an image generator a new control by asking a vision-language model questions about what it draws.",
    )
    .version(VERSION, "--version", "print the version")
    .helpCommand(false)
    .addCommand(worldCommand(context))
    .addCommand(teachCommand(context))
    .addCommand(evalCommand(context))
    .addCommand(runsCommand(context))
    .addCommand(compareCommand(context))
    .addCommand(studioCommand(context))
    .addCommand(askCommand(context))
    .addCommand(generateCommand(context))
    .addCommand(benchCommand(context))
    .addCommand(recipeCommand(context))
    .addCommand(modelsCommand(context))
    .addCommand(doctorCommand(context))
    .addHelpText("after", "\nRun 'dualproc COMMAND --help' for a command's options. Docs: README.md, docs/.");
  applyConventions(program, io);
  return program;
}

/** Run the CLI on `argv` (without node and script) and return the exit status. */
export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const program = buildProgram(io);
  if (argv.length === 0) {
    io.err(program.helpInformation());
    return EXIT.usage;
  }
  process.exitCode = undefined;
  try {
    await program.parseAsync(withoutHelpAfterUnknownCommand(program, argv), { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    return reportError(error, io);
  }
}

/**
 * `dualproc measure --help` would print the root's help and exit 0, as if `measure` existed: where a word
 * names no command of a group (the root, `world`, `bench`, `recipe`), drop the help flags so that commander
 * reports the unknown command (with the nested one it may mean).
 */
export function withoutHelpAfterUnknownCommand(program: Command, argv: string[]): string[] {
  let group = program;
  for (const [i, word] of argv.entries()) {
    if (word.startsWith("-")) return argv;
    const next = group.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!next) {
      const isGroup = group.commands.length > 0 && group.registeredArguments.length === 0;
      const help = (arg: string) => arg === "--help" || arg === "-h";
      return isGroup ? [...argv.slice(0, i + 1), ...argv.slice(i + 1).filter((arg) => !help(arg))] : argv;
    }
    if (next.commands.length === 0) return argv;
    group = next;
  }
  return argv;
}

function reportError(error: unknown, io: CliIO): number {
  if (error instanceof CommanderError) {
    // Help and version are "errors" to commander; usage errors were already printed as one line.
    const benign = ["commander.helpDisplayed", "commander.version", "commander.help"];
    return benign.includes(error.code) ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof UsageError) {
    io.err(`dualproc: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof RecipeError) {
    io.err(`dualproc: ${error.message}\n`);
    return EXIT.failed;
  }
  if (error instanceof EngineError) {
    io.err(`dualproc: ${error.describe()}\n`);
    if (error.code === "internal")
      io.err("dualproc: this is a bug in the engine; the traceback is above (-v)\n");
    return error.code === "cancelled" ? EXIT.cancelled : EXIT.failed;
  }
  io.err(`dualproc: internal error (a bug; please report it with this trace):\n${(error as Error).stack}\n`);
  return EXIT.failed;
}
