/** Option parsers and options every command shares. */
import { InvalidArgumentError, type Command } from "commander";
import type { Verbosity } from "./io.js";

export function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (text: string): number => {
    const value = Number(text);
    if (!/^-?\d+$/.test(text.trim()) || value < min || value > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return value;
  };
}

export function number(text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value)) throw new InvalidArgumentError("expected a number");
  return value;
}

/** A number in [min, max]. */
export function numberBetween(min: number, max: number) {
  return (text: string): number => {
    const value = number(text);
    if (value < min || value > max) throw new InvalidArgumentError(`expected a number from ${min} to ${max}`);
    return value;
  };
}

/** Free text that must say something (an empty prompt or question would only fail later, in the engine). */
export function nonEmpty(what: string) {
  return (text: string): string => {
    if (text.trim() === "") throw new InvalidArgumentError(`expected ${what}, got an empty text`);
    return text;
  };
}

export function choice<T extends string>(allowed: readonly T[]) {
  return (text: string): T => {
    if (!(allowed as readonly string[]).includes(text)) {
      throw new InvalidArgumentError(`expected one of ${allowed.join(", ")}`);
    }
    return text as T;
  };
}

/** A comma-separated list whose items must each be one of `allowed`. */
export function list<T extends string>(allowed: readonly T[]) {
  const one = choice(allowed);
  return (text: string): T[] => text.split(",").map((item) => one(item.trim()));
}

/** -v/-q on every command, so they work wherever they are written. */
export function withVerbosity(command: Command): Command {
  return command
    .option("-v, --verbose", "show engine logs and debug output")
    .option("-q, --quiet", "only results and errors");
}

export function verbosityOf(options: { verbose?: boolean; quiet?: boolean }): Verbosity {
  if (options.quiet) return "quiet";
  return options.verbose ? "verbose" : "normal";
}
