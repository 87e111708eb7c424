/** Errors from the engine side, each with a code the CLI maps to an exit status and a one-line message. */
import type { z } from "zod";
import type { ErrorCode } from "../protocol/messages.js";

export type EngineErrorCode = z.infer<typeof ErrorCode> | "worker_died" | "start_failed";

export class EngineError extends Error {
  override name = "EngineError";
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    /** The worker's last stderr lines, for errors where the worker itself failed. */
    readonly stderrTail: string[] = [],
  ) {
    super(message);
  }

  /** True for mistakes a person can fix (bad input, missing model): no stack trace for those. */
  get isUserError(): boolean {
    return this.code === "invalid_input" || this.code === "model_missing" || this.code === "cancelled";
  }

  /** The message, then the worker's last stderr lines indented beneath it. */
  describe(): string {
    if (this.stderrTail.length === 0) return this.message;
    return [
      this.message,
      "  last stderr lines of the worker:",
      ...this.stderrTail.map((l) => `    ${l}`),
    ].join("\n");
  }
}
