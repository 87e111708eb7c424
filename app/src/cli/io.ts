/** Where the CLI writes, and how much: one object passed down, so tests can capture everything. */
export type Verbosity = "quiet" | "normal" | "verbose";

export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether stderr is a terminal (progress then redraws one line instead of printing many). */
  errIsTTY: boolean;
}

export const processIO: CliIO = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  errIsTTY: Boolean(process.stderr.isTTY),
};

/**
 * A reader that stops early (`dualproc recipe fields | head`) closes the pipe: nothing more is wanted, so
 * the CLI ends quietly (with the exit code it has so far) instead of dying with a stack trace. Any other
 * stream error is still thrown. Installed on stdout and stderr by bin/dualproc.js.
 */
export function endQuietlyOnClosedPipe(
  stream: Pick<NodeJS.EventEmitter, "on">,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    exit(typeof process.exitCode === "number" ? process.exitCode : 0);
  });
}

export class Console {
  constructor(
    readonly io: CliIO,
    readonly verbosity: Verbosity = "normal",
  ) {}

  /** The command's result: always printed, even with -q. */
  result(line: string): void {
    this.io.out(line + "\n");
  }

  info(line: string): void {
    if (this.verbosity !== "quiet") this.io.err(line + "\n");
  }

  warn(line: string): void {
    this.io.err(`warning: ${line}\n`);
  }

  debug(line: string): void {
    if (this.verbosity === "verbose") this.io.err(line + "\n");
  }
}
