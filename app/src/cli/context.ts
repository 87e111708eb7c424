/** What every command needs: where to write, and a way to make subcommands with the shared conventions. */
import { Command } from "commander";
import { Console, type CliIO } from "./io.js";
import { verbosityOf, withVerbosity } from "./options.js";

export class CliContext {
  constructor(readonly io: CliIO) {}

  /** A subcommand with -v/-q, whose usage errors name it and what it allows. */
  command(name: string, description: string): Command {
    const command = new Command(name).description(description);
    return withVerbosity(command);
  }

  consoleFor(command: Command): Console {
    return new Console(this.io, verbosityOf(command.optsWithGlobals()));
  }
}

/**
 * Give every command in the tree the same output and error conventions: output through `io`, no
 * process.exit (errors are thrown and mapped to exit statuses by main), and usage errors as one line that
 * names the command and what it allows.
 */
export function applyConventions(root: Command, io: CliIO): void {
  const visit = (command: Command) => {
    command
      .exitOverride()
      .showSuggestionAfterError(true)
      .configureOutput({
        writeOut: (text) => io.out(text),
        writeErr: (text) => io.err(text),
        outputError: (text, write) => write(usageLine(command, text) + "\n"),
      });
    command.commands.forEach(visit);
  };
  visit(root);
}

function usageLine(command: Command, text: string): string {
  const message = text
    .replace(/^error:\s*/, "")
    .trim()
    .split("\n")
    .join(" ");
  const path = commandPath(command);
  const unknown = /unknown command '([^']+)'/.exec(message)?.[1];
  if (unknown !== undefined) {
    const allowed = command.commands.map((c) => c.name()).join(", ");
    const nested = nestedCommandsNamed(command, unknown).map((c) => `'${commandPath(c)}'`);
    const hint = nested.length > 0 ? ` (did you mean ${nested.join(" or ")}?)` : "";
    return `${path}: ${message}${hint} (commands: ${allowed}; see '${path} --help')`;
  }
  if (/unknown option/.test(message)) {
    const allowed = command.options.map((o) => o.long ?? o.short).join(", ");
    return `${path}: ${message} (options: ${allowed}, --help)`;
  }
  return `${path}: ${message} (see '${path} --help')`;
}

/** Commands below `command`'s own (a level or more down) named `name`: `measure` is `world measure`. */
export function nestedCommandsNamed(command: Command, name: string): Command[] {
  return command.commands.flatMap((child) => [
    ...child.commands.filter((c) => c.name() === name),
    ...nestedCommandsNamed(child, name),
  ]);
}

export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}
