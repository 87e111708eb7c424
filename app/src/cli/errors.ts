/** Exit statuses and the errors that map to them. User mistakes print one line; bugs print a stack. */
export const EXIT = { ok: 0, failed: 1, usage: 2, cancelled: 130 } as const;

/** A mistake on the command line: printed as one line, exit status 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
