import type { CliIO } from "../../src/cli/io.js";

/** A CliIO that keeps what the CLI writes, for in-process command tests. */
export function capture(): CliIO & { stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  return {
    out: (t) => (out += t),
    err: (t) => (err += t),
    errIsTTY: false,
    stdout: () => out,
    stderr: () => err,
  };
}
